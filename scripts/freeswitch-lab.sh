#!/usr/bin/env bash
# The lab switch: a real FreeSWITCH 1.11.1 built from source tarballs, configured for kakeru's
# real-switch tests (loopback endpoint only, event socket on 127.0.0.1), started and stopped.
#
#   scripts/freeswitch-lab.sh build    install build packages, build sofia-sip, spandsp and FreeSWITCH
#                                      under the prefix (skipped when already built)
#   scripts/freeswitch-lab.sh config   (re)write the lab's configuration under the prefix
#   scripts/freeswitch-lab.sh start    build + config when needed, start, wait for the event socket
#   scripts/freeswitch-lab.sh stop     stop the lab switch
#   scripts/freeswitch-lab.sh kill     kill it at once (SIGKILL: a crash, no hangups sent)
#   scripts/freeswitch-lab.sh status   exit 0 when the event socket accepts the password and
#                                      `api status` says the core is UP
#   scripts/freeswitch-lab.sh env      print the KAKERU_LAB_* settings the real-switch tests read
#   scripts/freeswitch-lab.sh api CMD  run one api command on the lab's event socket (e.g. `api
#                                      show channels`) and print its reply
#
# Environment:
#   KAKERU_LAB_SOURCES   directory holding freeswitch-1.11.1.tar.xz, sofia-sip-1.13.17.tar.xz and
#                        spandsp-3.0.0-0c7bceb.tar.xz (default: ../shared/lab beside the repository)
#   KAKERU_LAB_PREFIX    where the switch is built and installed (default: ~/.cache/kakeru-lab/fs-1.11.1)
#   KAKERU_LAB_NODE      which lab switch (default 1): node N > 1 is a second switch of the same
#                        build with its own configuration, run, log and database directories
#                        under PREFIX/nodeN, for the tests of several switch nodes
#   KAKERU_LAB_ESL_PORT  event socket port (default 18020 + node: 18021, away from a production
#                        switch's 8021)
#   KAKERU_LAB_ESL_PASSWORD  event socket password (default kakeru-lab)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOURCES=${KAKERU_LAB_SOURCES:-$ROOT/../shared/lab}
PREFIX=${KAKERU_LAB_PREFIX:-${HOME:-/root}/.cache/kakeru-lab/fs-1.11.1}
NODE=${KAKERU_LAB_NODE:-1}
case "$NODE" in '' | 0 | *[!0-9]*) echo "freeswitch-lab: KAKERU_LAB_NODE must be 1 or more: $NODE" >&2; exit 2 ;; esac
PORT=${KAKERU_LAB_ESL_PORT:-$((18020 + NODE))}
if [ "$NODE" = 1 ]; then
  ETC_DIR="$PREFIX/etc/freeswitch" RUN_DIR="$PREFIX/var/run/freeswitch" LOG_DIR="$PREFIX/var/log/freeswitch"
  DB_DIR="$PREFIX/var/lib/freeswitch/db" DIR_FLAGS=()
else
  ETC_DIR="$PREFIX/node$NODE/etc/freeswitch" RUN_DIR="$PREFIX/node$NODE/run" LOG_DIR="$PREFIX/node$NODE/log"
  DB_DIR="$PREFIX/node$NODE/db"
  DIR_FLAGS=(-conf "$ETC_DIR" -run "$RUN_DIR" -log "$LOG_DIR" -db "$DB_DIR")
fi
PASSWORD=${KAKERU_LAB_ESL_PASSWORD:-kakeru-lab}
JOBS=${KAKERU_LAB_JOBS:-$(nproc)}

FS_TAR=freeswitch-1.11.1.tar.xz
SOFIA_TAR=sofia-sip-1.13.17.tar.xz
SPANDSP_TAR=spandsp-3.0.0-0c7bceb.tar.xz

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

say() { echo "freeswitch-lab: $*" >&2; }
die() { say "$*"; exit 1; }

# Debian packages enough to build the three projects with the modules the lab uses.
BUILD_PACKAGES=(build-essential autoconf automake libtool libtool-bin pkg-config cmake yasm
  libssl-dev zlib1g-dev libjpeg-dev libtiff-dev libsqlite3-dev libcurl4-openssl-dev libpcre2-dev
  libspeex-dev libspeexdsp-dev libedit-dev libldns-dev uuid-dev libsndfile1-dev xz-utils)

# Modules the lab loads: enough for an outbound engine on loopback (no SIP, no sound files).
MODULES=(applications/mod_commands applications/mod_conference applications/mod_dptools
  dialplans/mod_dialplan_xml endpoints/mod_loopback event_handlers/mod_event_socket
  formats/mod_sndfile formats/mod_tone_stream formats/mod_local_stream
  loggers/mod_console loggers/mod_logfile applications/mod_avmd)

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  # Wait for another apt run's lock instead of failing on it.
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

# The stamp names the modules built: a build from an older list is built again.
built() {
  [ -x "$PREFIX/bin/freeswitch" ] && [ -f "$PREFIX/.kakeru-lab-built" ] &&
    [ "$(cat "$PREFIX/.kakeru-lab-built")" = "${MODULES[*]}" ]
}

check_sources() {
  local t
  for t in $FS_TAR $SOFIA_TAR $SPANDSP_TAR; do
    if [ ! -f "$SOURCES/$t" ]; then
      die "missing $SOURCES/$t. Set KAKERU_LAB_SOURCES to a directory holding $FS_TAR (github.com/signalwire/freeswitch tag v1.11.1), $SOFIA_TAR (github.com/freeswitch/sofia-sip v1.13.17) and $SPANDSP_TAR (github.com/freeswitch/spandsp commit 0c7bceb) as tar.xz archives."
    fi
  done
}

# build_autotools NAME TARBALL: bootstrap, configure, make and install one library under PREFIX.
build_autotools() {
  local name=$1 tar=$2 dir
  if [ -f "$PREFIX/.built-$name" ]; then return 0; fi
  say "building $name"
  dir=$(extract "$tar")
  (
    cd "$dir"
    ./bootstrap.sh >"$LOGDIR/$name-bootstrap.log" 2>&1
    ./configure --prefix="$PREFIX" >"$LOGDIR/$name-configure.log" 2>&1
    make -j"$JOBS" >"$LOGDIR/$name-make.log" 2>&1
    make install >"$LOGDIR/$name-install.log" 2>&1
  ) || die "$name failed: see $LOGDIR/$name-*.log"
  touch "$PREFIX/.built-$name"
}

# extract TARBALL: unpack into the build directory (shared/ is read-only), print the source dir.
extract() {
  local tar=$1 top
  top=$(tar -tJf "$SOURCES/$tar" | head -n 1 | cut -d/ -f1)
  rm -rf "${BUILD:?}/$top"
  tar -xJf "$SOURCES/$tar" -C "$BUILD"
  echo "$BUILD/$top"
}

build() {
  if built; then say "already built under $PREFIX"; return 0; fi
  check_sources
  apt_install "${BUILD_PACKAGES[@]}"
  mkdir -p "$PREFIX"
  BUILD="$PREFIX/build"
  LOGDIR="$PREFIX/build-logs"
  mkdir -p "$BUILD" "$LOGDIR"
  export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
  export LDFLAGS="-Wl,-rpath,$PREFIX/lib -L$PREFIX/lib"
  export CPPFLAGS="-I$PREFIX/include"
  local start=$SECONDS
  build_autotools sofia-sip $SOFIA_TAR
  build_autotools spandsp $SPANDSP_TAR
  say "building FreeSWITCH (a few minutes on 2 cores; logs in $LOGDIR)"
  local dir
  dir=$(extract $FS_TAR)
  (
    cd "$dir"
    # Our modules.conf must be in place before bootstrap: the default one asks for mod_verto,
    # whose libks Debian does not ship, and configure stops there.
    printf '%s\n' "${MODULES[@]}" >modules.conf
    ./bootstrap.sh -j >"$LOGDIR/freeswitch-bootstrap.log" 2>&1
    printf '%s\n' "${MODULES[@]}" >modules.conf
    ./configure --prefix="$PREFIX" --disable-libvpx --disable-libyuv \
      >"$LOGDIR/freeswitch-configure.log" 2>&1
    make -j"$JOBS" >"$LOGDIR/freeswitch-make.log" 2>&1
    make install >"$LOGDIR/freeswitch-install.log" 2>&1
  ) || die "FreeSWITCH failed: see $LOGDIR/freeswitch-*.log"
  rm -rf "$BUILD"
  echo "${MODULES[*]}" >"$PREFIX/.kakeru-lab-built"
  say "built in $((SECONDS - start)) s under $PREFIX"
}

config() {
  built || die "not built: run $0 build first"
  mkdir -p "$(dirname "$ETC_DIR")"
  "$ROOT/scripts/freeswitch-lab-config.sh" "$ETC_DIR" "$PORT" "$PASSWORD"
}

esl_up() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# esl_read_frame FD: read one frame's headers into ESL_TYPE, ESL_REPLY, and its body into ESL_BODY.
esl_read_frame() {
  local fd=$1 line len=0
  ESL_TYPE="" ESL_REPLY="" ESL_BODY=""
  while IFS= read -r -t 5 -u "$fd" line; do
    [ -z "$line" ] && [ -n "$ESL_TYPE$ESL_REPLY" ] && break
    case "$line" in
    Content-Type:*) ESL_TYPE=${line#Content-Type: } ;;
    Reply-Text:*) ESL_REPLY=${line#Reply-Text: } ;;
    Content-Length:*) len=${line#Content-Length: } ;;
    esac
  done
  [ -n "$ESL_TYPE" ] || return 1
  if [ "$len" -gt 0 ]; then IFS= read -r -t 5 -u "$fd" -N "$len" ESL_BODY || return 1; fi
}

# esl_api CMD...: authenticate and run one api command on the lab's event socket; prints its
# reply. Fails when the socket does not answer, refuses the password, or the reply is -ERR.
esl_api() {
  (
    export LC_ALL=C
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
    esl_read_frame 3 && [ "$ESL_TYPE" = auth/request ] || exit 1
    printf 'auth %s\n\n' "$PASSWORD" >&3
    esl_read_frame 3 && [ "$ESL_REPLY" = "+OK accepted" ] || { say "event socket refused the password"; exit 1; }
    printf 'api %s\n\n' "$*" >&3
    esl_read_frame 3 && [ "$ESL_TYPE" = api/response ] || exit 1
    printf 'exit\n\n' >&3
    printf '%s\n' "$ESL_BODY"
    case "$ESL_BODY" in -ERR*) exit 1 ;; esac
  ) 2>/dev/null
}

# status: the switch answers `api status` with its core UP.
esl_status() { esl_api status | grep -q '^UP '; }

pidfile() { echo "$RUN_DIR/freeswitch.pid"; }

running() { [ -f "$(pidfile)" ] && kill -0 "$(cat "$(pidfile)")" 2>/dev/null; }

start() {
  build
  config
  if running; then
    if esl_status; then say "already running on 127.0.0.1:$PORT"; return 0; fi
    stop
  fi
  say "starting on 127.0.0.1:$PORT"
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$DB_DIR"
  # A core database left by a killed switch could list channels that no longer exist.
  rm -f "$DB_DIR"/*.db
  # -ncwait: into the background, returning once the core is up and the pid file written.
  "$PREFIX/bin/freeswitch" -ncwait -nonat -nocal -nort "${DIR_FLAGS[@]}" >/dev/null 2>&1 ||
    die "the switch did not start; see $LOG_DIR/freeswitch.log"
  local i
  for i in $(seq 1 120); do
    if esl_status; then say "up: event socket on 127.0.0.1:$PORT answers"; return 0; fi
    running || die "the switch exited; see $LOG_DIR/freeswitch.log"
    sleep 0.5
  done
  die "the event socket did not answer on 127.0.0.1:$PORT within 60 s; see $LOG_DIR/freeswitch.log"
}

stop() {
  if ! running; then return 0; fi
  local pid
  pid=$(cat "$(pidfile)")
  say "stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
build) build ;;
config) config ;;
start) start ;;
stop) stop ;;
kill)
  if running; then
    say "killing (pid $(cat "$(pidfile)"))"
    kill -KILL "$(cat "$(pidfile)")" 2>/dev/null || true
    for _ in $(seq 1 40); do running || break; sleep 0.25; done
  fi
  ;;
status)
  if esl_status; then say "up on 127.0.0.1:$PORT"; else say "not answering on 127.0.0.1:$PORT"; exit 1; fi
  ;;
api)
  shift
  [ $# -gt 0 ] || die "usage: $0 api COMMAND [ARGS]"
  esl_api "$@"
  ;;
env)
  echo "KAKERU_LAB_ESL_ADDR=127.0.0.1:$PORT"
  echo "KAKERU_LAB_ESL_PASSWORD=$PASSWORD"
  echo "KAKERU_LAB_PREFIX=$PREFIX"
  ;;
*)
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
