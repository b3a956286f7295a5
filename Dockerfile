# RxHub's image: the wheel built from this tree, installed (not editable) as a fixed non-root user.
# docker-compose.yml runs it as the hub, the workers and the init job; alone, `rxhub run` on SQLite (RXHUB_DATA_DIR).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY hub ./hub
COPY adapters ./adapters
RUN pip wheel --no-cache-dir --no-deps -w /wheels .

FROM python:3.11-slim
ARG VERSION=0.1.0
# set by the release build: `--build-arg SOURCE=<repository URL> --build-arg REVISION=$(git rev-parse HEAD)`
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="RxHub" \
      org.opencontainers.image.description="Pharmacy messaging hub: HL7 v2, FHIR R4 and NCPDP in, durable commands on RabbitMQ" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"
# a fixed UID/GID, so that files on volumes and secrets keep one owner across rebuilds
RUN groupadd --system --gid 10001 rxhub \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/rxhub --create-home rxhub
COPY --from=build /wheels /wheels
# the reference data ships inside the package (hub/data)
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001:10001
WORKDIR /var/lib/rxhub
# the default SQLite database (compose uses PostgreSQL); mount a volume here to keep it
ENV PYTHONUNBUFFERED=1 RXHUB_DATA_DIR=/var/lib/rxhub
EXPOSE 2575 8080
# /readyz: broker, database, and a consumer on every step queue; python, since the image has no curl
HEALTHCHECK --interval=10s --timeout=10s --start-period=30s --retries=3 CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('RXHUB_HTTP_PORT', '8080'), timeout=5)"]
CMD ["rxhub", "run"]
