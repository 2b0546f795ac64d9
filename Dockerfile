# driftbot serve, the GitHub App. Settings come from the environment (README: "Set the environment");
# state, the content cache and a .env written by the setup flow live in the /data volume.
FROM python:3.12-slim

RUN useradd --create-home --uid 10001 driftbot && mkdir /data && chown driftbot /data
WORKDIR /app
COPY pyproject.toml README.md app.yml ./
COPY bot ./bot
COPY rules ./rules
COPY schema ./schema
RUN pip install --no-cache-dir ".[postgres]"

USER driftbot
ENV PORT=8000 \
    DRIFTBOT_STORE=/data/driftbot.sqlite3 \
    DRIFTBOT_CACHE=/data/cache \
    DRIFTBOT_ENV_FILE=/data/.env \
    DRIFTBOT_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
CMD ["driftbot", "serve"]
