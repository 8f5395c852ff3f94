#!/usr/bin/env bash
# Runs the whole suite. With CI=true it uses PostgreSQL and Redis on localhost, starting them
# when they are down, and fails (never skips) when it cannot reach them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${CI:-}" = "true" ] || [ "${ROLEMODEL_TEST_SERVICES:-}" = "real" ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "Starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "Starting Redis…"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rolemodel}"
  export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}"
  export ROLEMODEL_REQUIRE_REAL_SERVICES=true
fi

# The browser tests (tests/browser) drive Debian's Chromium and never skip: install it when missing.
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "Installing Chromium for the browser tests (${CHROMIUM} is missing)…"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "Chromium is missing and installing it needs root (no sudo here)." >&2; exit 1; }
    as_root=(sudo)
  fi
  if ! { "${as_root[@]}" apt-get update \
         && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }; then
    echo "Could not install Debian's chromium; the browser tests need it at ${CHROMIUM}." >&2
    exit 1
  fi
  [ -x "$CHROMIUM" ] || { echo "chromium was installed but ${CHROMIUM} does not exist; set CHROMIUM_PATH." >&2; exit 1; }
fi

# The layers contract (.importlinter): an import from a layer above fails the run here, with
# import-linter's account of it, before any test runs.
.venv/bin/lint-imports --no-logo --no-cache

exec .venv/bin/python -m pytest "$@"
