# Omniflow service image: gunicorn HTTP processes (`omniflow serve`) or the background worker
# (`omniflow worker`), on PostgreSQL (compose.yaml) or the embedded SQLite.
#
#   docker build -t omniflow .
#   docker run -p 8080:8080 omniflow serve --host 0.0.0.0 --demo     # SQLite, demo users
FROM python:3.11-slim-bookworm

# durable-rules is a C extension built from source: it needs gcc and the Python headers
# (the python image has the headers; gcc and make come from Debian).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc g++ make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The pinned, tested set first (a layer that changes only with requirements.txt).
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY pyproject.toml README.md server.py ./
COPY service ./service
COPY scoring ./scoring
COPY bpmn ./bpmn
COPY dmn ./dmn
COPY rules ./rules
# The `omniflow` command, the same CLI as server.py; the clone's content is deployed on first start.
RUN pip install --no-cache-dir --no-deps -e .

# Everything the service writes (SQLite file, trained models, audit key and checkpoints).
ENV OMNIFLOW_DATA_DIR=/data \
    OMNIFLOW_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --home-dir /data omniflow \
 && mkdir -p /data /audit && chown omniflow /data /audit
USER omniflow
VOLUME ["/data", "/audit"]
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"

ENTRYPOINT ["omniflow"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
