#!/usr/bin/env bash
# Starts (or stops) the local PostgreSQL, Redis and S3-compatible server (moto) that the test suite uses.
# Idempotent; needs root (CI, dev box).
set -euo pipefail
action=${1:-start}
s3_port=${S3_TEST_PORT:-5055}
s3_pidfile=/tmp/jiradr-moto-server.pid

s3_up() { (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null; }

pg_version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_version" ]; then echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; fi

if [ "$action" = stop ]; then
  pg_ctlcluster "$pg_version" main stop || true
  redis-cli -p 6379 shutdown nosave >/dev/null 2>&1 || true
  if [ -f "$s3_pidfile" ]; then kill "$(cat "$s3_pidfile")" 2>/dev/null || true; rm -f "$s3_pidfile"; fi
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

# moto's S3 server (the `moto[server]` dev dependency): a real S3-compatible HTTP server for the S3 backend's tests.
if ! s3_up; then
  python3 -c "import moto.server" 2>/dev/null || { echo "moto is not installed: pip install -e '.[dev]'" >&2; exit 1; }
  setsid nohup python3 -m moto.server -H 127.0.0.1 -p "$s3_port" >/tmp/jiradr-moto-server.log 2>&1 </dev/null &
  echo $! >"$s3_pidfile"
  for _ in $(seq 1 60); do s3_up && break; sleep 0.25; done
fi
s3_up && echo "S3 (moto) on 127.0.0.1:$s3_port" || { echo "the S3 server did not start (see /tmp/jiradr-moto-server.log)" >&2; exit 1; }
