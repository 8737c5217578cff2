FROM docker.io/library/python:3.13-slim AS base
ENV PIP_NO_CACHE_DIR=1

FROM base AS builder
RUN pip install --prefix=/install flask

from base
copy --from=builder /install /usr/local
user nobody
cmd ["flask", "run"]
