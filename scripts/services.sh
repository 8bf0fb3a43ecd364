#!/usr/bin/env bash
# Starts (or stops) the local PostgreSQL and Redis that the test suite uses. Idempotent; needs root (CI, dev box).
set -euo pipefail
action=${1:-start}

pg_version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_version" ]; then echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; fi

if [ "$action" = stop ]; then
  pg_ctlcluster "$pg_version" main stop || true
  redis-cli -p 6379 shutdown nosave >/dev/null 2>&1 || true
  exit 0
fi

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx main; then
  pg_createcluster "$pg_version" main >/dev/null
fi
pg_ctlcluster "$pg_version" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p 5432
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname='jiradr'\" | grep -q 1 || \
  psql -q -c \"CREATE ROLE jiradr LOGIN SUPERUSER PASSWORD 'jiradr'\""
for name in jiradr_test jiradr_bench; do  # the suite's database; the benchmarks' (dropped and rebuilt by them)
  su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname='$name'\" | grep -q 1 || \
    createdb -O jiradr $name"
done

if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 20); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
redis-cli -p 6379 ping
