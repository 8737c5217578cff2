FROM python:3.13-slim
RUN apt-get update && apt-get install -y libfoo-does-not-exist
RUN python manage.py collectstatic --noinput
COPY . /app
CMD ["sh", "-c", "python migrate.py && gunicorn app:app | tee /tmp/log"]
ENTRYPOINT ./docker-entrypoint.sh
HEALTHCHECK CMD pgrep gunicorn
