# One image for the API, the workers and migrations: `channel-sync serve|worker|migrate`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
# The wheel carries the migrations inside the package (pyproject's force-include).
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# /data is the working directory, so the embedded SQLite default (./channel-sync.db) and the
# sandbox's own file land in a volume the service's user can write; compose sets a
# PostgreSQL DATABASE_URL instead.
RUN useradd --system --uid 10001 --home-dir /data channel-sync \
    && mkdir /data && chown channel-sync:channel-sync /data
COPY --from=build /install /usr/local
WORKDIR /data
VOLUME /data
USER channel-sync
EXPOSE 8000
# No image-wide check: the API, the workers and the one-off migration need different ones
# (an HTTP probe would mark every worker unhealthy); docker-compose.yml sets one per service.
HEALTHCHECK NONE
ENTRYPOINT ["channel-sync"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
