#!/usr/bin/env bash
# Builds the Debian package (make package), installs it on this machine with dpkg, checks what it
# installed, removes it, purges it and checks nothing is left. Needs root on Debian (CI runs so).
# Idempotent: the package is purged at the end whatever happened. A kakeru package found
# installed at the start is refused (it may be a real installation), except under CI=true or
# PACKAGE_TEST_PURGE=1, where it is taken for a leftover of a killed run and purged.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

CONF=/etc/kakeru/kakeru.yaml
UNIT=/lib/systemd/system/kakeru.service
passed=0
failed=0

say() { printf 'package-test: %s\n' "$*"; }
pass() { passed=$((passed + 1)); say "ok   $1"; }
fail() { failed=$((failed + 1)); say "FAIL $1"; }
# check DESCRIPTION COMMAND...: the command's success is the check.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
# owner PATH WANT: WANT is "user:group mode", e.g. "root:kakeru 640".
owner() { [ "$(stat -c '%U:%G %a' "$1")" = "$2" ]; }
installed() { dpkg-query -W -f='${db:Status-Status}' kakeru 2>/dev/null | grep -qv '^not-installed$'; }
absent() { [ ! -e "$1" ]; }

if [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null; then
	say "needs root on a Debian machine (dpkg installs the package)"
	exit 1
fi
if installed; then
	if [ "${CI:-}" = true ] || [ "${PACKAGE_TEST_PURGE:-}" = 1 ]; then
		say "purging a kakeru package left installed"
		dpkg -P kakeru
	else
		say "a kakeru package is installed on this machine; this test would purge it."
		say "Run dpkg -P kakeru first, or PACKAGE_TEST_PURGE=1 $0."
		exit 1
	fi
fi
cleanup() {
	if installed; then
		say "cleaning up: dpkg -P kakeru"
		dpkg -P kakeru >/dev/null || true
	fi
}
trap cleanup EXIT

make package
debs=(bin/deb/kakeru_*.deb)
if [ "${#debs[@]}" != 1 ]; then
	say "want one package in bin/deb, found: ${debs[*]}"
	exit 1
fi
deb=${debs[0]}
say "installing $deb"
dpkg -i "$deb"

# What the package installed.
check "kakeru version runs" bash -c '/usr/bin/kakeru version | grep -q "^kakeru "'
check "binary root:root 755" owner /usr/bin/kakeru "root:root 755"
check "configuration root:kakeru 640" owner "$CONF" "root:kakeru 640"
check "unit root:root 644" owner "$UNIT" "root:root 644"
check "state directory kakeru:kakeru 750" owner /var/lib/kakeru "kakeru:kakeru 750"
check "system user kakeru without a login shell" bash -c \
	'getent passwd kakeru | grep -q ":/var/lib/kakeru:/usr/sbin/nologin$" && [ "$(id -u kakeru)" -lt 1000 ]'
check "configuration is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' kakeru | grep -q '^ $CONF '"
check "service not enabled" absent /etc/systemd/system/multi-user.target.wants/kakeru.service

# The packaged configuration is refused until every user has a token, by config check (as the
# service's user: the file is readable by it) and by serve itself.
tokens=$(grep -c 'token_sha256: REPLACE_WITH_SHA256_OF_TOKEN$' "$CONF")
set +e
out=$(runuser -u kakeru -- /usr/bin/kakeru config check --config "$CONF")
code=$?
set -e
check "config check exits 1" [ "$code" = 1 ]
check "config check names all $tokens placeholders" \
	[ "$(grep -c '^  users\[[0-9]*\]\.token_sha256: is the placeholder' <<<"$out")" = "$tokens" ]
check "config check says how to make a hash" grep -q 'sha256sum' <<<"$out"
set +e
out=$(cd /var/lib/kakeru && runuser -u kakeru -- /usr/bin/kakeru serve --config "$CONF" --log-format json 2>&1)
code=$?
set -e
check "serve refuses the placeholder tokens (exit 2)" [ "$code" = 2 ]
check "serve names the placeholders" grep -q 'users\[0\]\.token_sha256: is the placeholder' <<<"$out"

if command -v systemd-analyze >/dev/null; then
	# verify exits 0 on mere warnings (an unknown key is ignored): any output fails too.
	check "systemd-analyze verify: no error, no warning" bash -c \
		'out=$(systemd-analyze verify "$1" 2>&1) && [ -z "$out" ] || { printf "%s\n" "$out"; false; }' _ "$UNIT"
else
	say "skip systemd-analyze verify: not installed"
fi

# Reinstalling keeps the administrator's configuration and ownership.
echo "# local change" >>"$CONF"
dpkg -i --force-confold "$deb" >/dev/null
check "reinstall keeps the edited conffile" grep -q '^# local change$' "$CONF"
check "reinstall keeps its owner" owner "$CONF" "root:kakeru 640"

# Removal leaves configuration and state; purge leaves nothing (the user stays, as Debian keeps
# system users).
dpkg -r kakeru
check "remove deletes the binary" absent /usr/bin/kakeru
check "remove deletes the unit" absent "$UNIT"
check "remove keeps the configuration" [ -f "$CONF" ]
check "remove keeps the state directory" [ -d /var/lib/kakeru ]
dpkg -P kakeru
check "purge deletes /etc/kakeru" absent /etc/kakeru
check "purge deletes /var/lib/kakeru" absent /var/lib/kakeru
check "purge leaves no dpkg record" bash -c '! dpkg-query -W kakeru >/dev/null 2>&1 || \
	[ "$(dpkg-query -W -f="\${db:Status-Status}" kakeru)" = not-installed ]'

printf 'package-test: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
