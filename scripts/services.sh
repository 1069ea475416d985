#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 (5432, 6379): starts them when they are
# installed but stopped, installs them from Debian's packages when they are missing, and creates
# the database the demo uses; installs Debian's chromium for the monitor page's browser test.
# Safe to run again and again.
set -euo pipefail

PGUSER_DSN="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

say() { echo "services: $*" >&2; }

wait_for() { # NAME COMMAND...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  say "$name did not come up"; return 1
}

apt_install() {
  say "installing $*"
  # Wait for another install's lock instead of failing on it (exit 100).
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }

postgres() {
  if command -v pg_isready >/dev/null && pg_up; then return 0; fi
  local fresh=""
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    fresh=1
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -n "$fresh" ]; then
    # A fresh cluster wants passwords on TCP; kakeru's development setup uses trust on loopback
    # only, as the test machines do.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  if [ -n "$fresh" ]; then
    # The package may have started the cluster already; a restart makes it read the new rules.
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  else
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  wait_for PostgreSQL pg_up
}

redis() {
  if command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; then return 0; fi
  if ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  say "starting Redis"
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_for Redis sh -c '[ "$(redis-cli -h 127.0.0.1 -p 6379 ping)" = PONG ]'
}

# The monitor page's end-to-end test drives Debian's chromium headless (cmd/kakeru); it skips
# when chromium is absent, so install it when we can (root, or sudo available).
chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; then
    say "chromium is missing and we are not root: the browser test of /monitor will skip"
    return 0
  fi
  apt_install chromium
}

postgres
redis
chromium
if [ "${1:-}" = "--demo-db" ]; then
  if [ -z "$(psql "$PGUSER_DSN" -Atc "SELECT 1 FROM pg_database WHERE datname = 'kakeru'")" ]; then
    say "creating database kakeru"
    psql "$PGUSER_DSN" -qc "CREATE DATABASE kakeru"
  fi
fi
