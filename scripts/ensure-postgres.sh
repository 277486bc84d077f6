#!/usr/bin/env bash
# The test suite needs PostgreSQL on 127.0.0.1:5432 with a database named `test` (trust auth).
# Start the machine's cluster if it is installed but stopped; fail loudly if there is none.
set -euo pipefail
host=127.0.0.1
ready() { pg_isready -q -h "$host" -p 5432 2>/dev/null; }
if ! ready; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL $(ls /etc/postgresql)"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do ready && break; sleep 1; done
  fi
fi
if ! ready; then
  echo "PostgreSQL is not answering on $host:5432; the store tests need it (see README)." >&2
  exit 1
fi
if ! psql -h "$host" -U postgres -lqt 2>/dev/null | cut -d'|' -f1 | grep -qw test; then
  createdb -h "$host" -U postgres test
fi
