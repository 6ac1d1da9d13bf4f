# digest in a container: `digest serve` by default, as a non-root user, data on a volume.
#
#   docker build -t digest .
#   docker run -d --name digest --restart unless-stopped --stop-timeout 70 \
#       -v digest-data:/data -v "$PWD/digest.toml:/config/digest.toml:ro" \
#       -e DIGEST_SMTP_PASSWORD -p 127.0.0.1:8790:8790 digest
#   docker logs -f digest                 one key=value line per stage
#   docker kill -s HUP digest             re-read the config and reschedule
#   docker exec digest digest status      next/last runs, feed health, undelivered mail
#   docker run --rm -v digest-data:/data -v "$PWD/digest.toml:/config/digest.toml:ro" digest run
#                                         a one-off run (fails fast while the service runs)
#
# digest.example.toml works as /config/digest.toml as it is: its feeds are the bundled lists
# ("builtin:default"), inside the package. Your own files that digest.toml names by a
# relative path (feed lists, templates_dir) are resolved beside it, so mount them under
# /config too. The DejaVu fonts embedded in the PDF ship inside the package (digest/fonts),
# so the image needs no system font packages. The package is the distribution digest-news.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Every dependency has a manylinux wheel (lxml, numpy, scipy, reportlab, psycopg-binary):
# no compiler in the image. The package is installed (not edited in place) into a venv
# that the runtime stage copies whole.
COPY pyproject.toml README.md ./
COPY digest ./digest
RUN python -m venv /opt/digest \
 && /opt/digest/bin/pip install ".[postgres]" \
 && /opt/digest/bin/python -c "import digest.cli, digest.service"

FROM python:3.11-slim
# A fixed uid/gid so a bind-mounted data directory can be chowned to match (10001).
RUN groupadd --system --gid 10001 digest \
 && useradd --system --uid 10001 --gid digest --home-dir /data --shell /usr/sbin/nologin digest \
 && install -d -o digest -g digest -m 0750 /data \
 && install -d -m 0755 /config
COPY --from=build /opt/digest /opt/digest
ENV PATH=/opt/digest/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DIGEST_CONFIG=/config/digest.toml \
    DIGEST_DATA_DIR=/data \
    DIGEST_HEALTH_HOST=0.0.0.0 \
    DIGEST_HEALTH_PORT=8790
# The SQLite database, its lock file, the outbox and the written digests.
VOLUME ["/data"]
WORKDIR /data
USER digest
EXPOSE 8790
# SIGTERM lets the running job finish for up to --stop-timeout (60 s): give `docker stop`
# more than that (--stop-timeout 70 above, or stop_grace_period in compose).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=60s --timeout=5s --start-period=2m --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8790/healthz', timeout=4)"]
# digest is PID 1 and handles SIGTERM/SIGINT/SIGHUP itself; it starts no child processes.
ENTRYPOINT ["digest"]
CMD ["serve", "--stop-timeout", "60"]
