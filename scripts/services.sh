# Helpers to make sure the local services the tests use are up. Sourced by scripts/test.
# Each starts a stopped service when it can; it never installs a database server.

ensure_postgres() {
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "==> starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
  fi
  return 1
}

ensure_redis() {
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0
  if command -v redis-server >/dev/null 2>&1; then
    echo "==> starting Redis"
    mkdir -p /tmp/jjj-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp/jjj-redis --logfile /tmp/jjj-redis/redis.log || true
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0; sleep 0.5; done
  fi
  return 1
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian's chromium and fonts-noto-cjk for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  fi
  [ -x /usr/bin/chromium ]
}

# Start a throwaway Meilisearch on a free loopback port; sets MEILI_TEST_URL, MEILI_TEST_KEY, MEILI_PID.
start_meilisearch() {
  local binary port data
  binary=$(scripts/install-meilisearch) || return 1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  data=$(mktemp -d /tmp/jjj-meili.XXXXXX)
  MEILI_TEST_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  "$binary" --http-addr "127.0.0.1:$port" --master-key "$MEILI_TEST_KEY" --db-path "$data/data.ms" \
    --dump-dir "$data/dumps" --snapshot-dir "$data/snapshots" --no-analytics --env development \
    --max-indexing-threads 2 --log-level WARN >"$data/meili.log" 2>&1 &
  MEILI_PID=$!
  MEILI_DATA=$data
  MEILI_TEST_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fs "$MEILI_TEST_URL/health" >/dev/null 2>&1 && { export MEILI_TEST_URL MEILI_TEST_KEY MEILI_PID MEILI_DATA MEILI_BINARY=$binary; return 0; }
    kill -0 "$MEILI_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "Meilisearch did not start; its log:" >&2; cat "$data/meili.log" >&2
  return 1
}

stop_meilisearch() {
  # Each step may fail harmlessly (already stopped); none may end the script under set -e.
  if [ -n "${MEILI_PID:-}" ]; then kill "$MEILI_PID" 2>/dev/null || true; wait "$MEILI_PID" 2>/dev/null || true; fi
  if [ -n "${MEILI_DATA:-}" ]; then rm -rf "$MEILI_DATA"; fi
  return 0
}
