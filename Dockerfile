# Rolemodel Console: one image for the web server, the worker, beat and migrations
# (docker-compose.yml picks the command). Runtime dependencies only; no compilers needed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=rolemodel_site.settings \
    ROLEMODEL_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

RUN groupadd --system --gid 10001 rolemodel \
    && useradd --system --uid 10001 --gid rolemodel --home-dir /app/var --no-create-home rolemodel

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# The code stays root-owned and read-only to the app; only var/ and staticfiles/ are its own.
RUN mkdir -p /app/var /app/staticfiles && chown rolemodel:rolemodel /app/var /app/staticfiles

USER rolemodel
EXPOSE 8000

CMD ["gunicorn", "rolemodel_site.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--no-control-socket"]
