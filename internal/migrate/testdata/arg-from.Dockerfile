ARG PY=3.12-slim
ARG BASE_IMAGE
FROM python:${PY} AS build
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM ${BASE_IMAGE}
COPY --from=build /wheels /wheels

FROM python:$PY@sha256:0000000000000000000000000000000000000000000000000000000000000000
COPY --from=build /wheels /wheels
USER 65532
ENTRYPOINT ["python3", "-m", "app"]
