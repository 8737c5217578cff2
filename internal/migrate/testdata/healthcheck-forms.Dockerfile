FROM python:3.12-slim
ENV PORT=8000
COPY app.py /app/
HEALTHCHECK --interval=30s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/health')" || exit 1
HEALTHCHECK CMD ["CMD-SHELL", "curl -fsS http://localhost:${PORT}/ready"]
HEALTHCHECK CMD wget --spider -q localhost:8000/live
HEALTHCHECK CMD ["CMD", "/app/check"]
HEALTHCHECK CMD curl -f http://localhost:8000/ | grep ok
HEALTHCHECK NONE
CMD ["python", "/app/app.py"]
