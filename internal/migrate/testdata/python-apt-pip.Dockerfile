# The shape of many Hugging Face Spaces and FastAPI services: system libraries for OpenCV,
# an account, pip in the final stage, a curl health check and sh -c for the port.
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends \
        libgl1 libglib2.0-0 libssl3 curl \
    && rm -rf /var/lib/apt/lists/*

RUN useradd -m -u 1000 user
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir -r requirements.txt
COPY --chown=user . /app
RUN mkdir -p /app/data && chown -R user:user /app
USER user
ENV HOME=/home/user
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s CMD curl -f http://localhost:${PORT:-7860}/health || exit 1
CMD ["sh", "-c", "uvicorn app:app --host 0.0.0.0 --port ${PORT:-7860}"]
