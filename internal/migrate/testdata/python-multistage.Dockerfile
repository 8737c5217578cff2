# syntax=docker/dockerfile:1
FROM python:3.13-slim AS builder
WORKDIR /src
COPY requirements.txt .
RUN pip install --no-cache-dir --target /deps -r requirements.txt
COPY . .

FROM python:3.13-slim
WORKDIR /app
COPY --from=builder /deps /deps
COPY --from=builder /src /app
ENV PYTHONPATH=/deps
EXPOSE 8000
HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
CMD ["python", "app.py"]
