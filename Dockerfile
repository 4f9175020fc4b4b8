# One image for the API, the workers and migrations: `channel-sync serve|worker|migrate`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --home-dir /srv channel-sync
COPY --from=build /install /usr/local
WORKDIR /srv
# Alembic reads its script location from here at run time.
COPY alembic.ini ./
COPY migrations ./migrations
USER channel-sync
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live')"
ENTRYPOINT ["channel-sync"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
