#!/usr/bin/env bash
# Runs the test suite on PostgreSQL: DATABASE_URL if it names one, else the local server at
# 127.0.0.1:5432 (started first if installed but stopped). Without PostgreSQL it says so
# in one line and succeeds, so `make test` passes on a machine that has none.
set -euo pipefail
cd "$(dirname "$0")/.."

url=${DATABASE_URL:-}
if [[ "$url" != postgres* ]]; then
  url="postgres://postgres@127.0.0.1:5432/dystonia_clinic"
fi
hostport=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname or "127.0.0.1", p.port or 5432)' "$url")
read -r host port <<<"$hostport"

reachable() { python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()' "$host" "$port" 2>/dev/null; }

if ! reachable && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 30); do reachable && break; sleep 0.5; done
fi

if ! reachable; then
  echo "PostgreSQL: no server at $host:$port; skipped the PostgreSQL test run (SQLite run passed)."
  exit 0
fi

echo "PostgreSQL: running the suite against $host:$port (browser journeys ran on SQLite)."
DATABASE_URL="$url" .venv/bin/pytest -m "not e2e" -q
