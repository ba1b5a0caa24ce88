#!/usr/bin/env bash
# Starts the Debian PostgreSQL cluster and creates the test role and database (idempotent).
set -euo pipefail
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | grep -q "^${version} main"; then pg_createcluster "$version" main >/dev/null; fi
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 1
done
run_psql() { su postgres -c "psql -v ON_ERROR_STOP=1 -qAtc \"$1\""; }
[ "$(run_psql "SELECT 1 FROM pg_roles WHERE rolname='dingops'")" = "1" ] || run_psql "CREATE ROLE dingops LOGIN PASSWORD 'dingops'"
[ "$(run_psql "SELECT 1 FROM pg_database WHERE datname='dingops_test'")" = "1" ] || run_psql "CREATE DATABASE dingops_test OWNER dingops"
echo "postgresql $version ready"
