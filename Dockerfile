# One image for the three app services (web, worker, beat); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DIALOGUE_ENV=production INSTANCE_PATH=/var/lib/dialogue \
    WEB_CONCURRENCY=2
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY backoffice backoffice
COPY workflows workflows
COPY workers workers
# EXTRAS=run builds a web-only image without the synthesis libraries (spaCy, scikit-learn,
# WeasyPrint): it serves the documents the workers made. The default image runs every service.
ARG EXTRAS=run,synthesis
RUN pip install -c constraints.txt -e ".[${EXTRAS}]"

COPY . .
RUN pybabel compile -d backoffice/translations \
    && useradd --system --home-dir /var/lib/dialogue --create-home dialogue
USER dialogue

EXPOSE 8000
# gunicorn's workers: WEB_CONCURRENCY (one per core; bench/load.py measures 2 on 2 cores).
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "wsgi:app"]
