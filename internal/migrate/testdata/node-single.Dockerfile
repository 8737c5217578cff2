FROM node:20-bookworm-slim
RUN groupadd -r app && useradd -r -g app app
WORKDIR /usr/src/app
COPY package*.json ./
RUN npm ci --omit=dev
COPY . .
RUN chown -R app:app /usr/src/app && chmod 755 /usr/src/app/start.js
USER app
ENV PORT=3000
HEALTHCHECK CMD ["CMD-SHELL", "wget -qO- http://localhost:$PORT/healthz || exit 1"]
CMD exec node start.js --port $PORT
