#!/bin/sh
# A standard Varlink client drives minisupd unchanged: Debian's python3-varlink (bookworm-
# backports), fetched into a temporary folder with `apt-get download` under a private apt
# configuration and unpacked with dpkg-deb -x (nothing is installed). Its CLI exits 0 even on an
# error reply, so every check reads its output. Exits 77 (skipped, with the reason) when the
# package cannot be fetched.
# Usage: varlink_python.sh BIN_DIR SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d /tmp/minisup-varlink-XXXXXX)
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# Private apt: the machine's own Debian sources plus bookworm-backports.
mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/apt/sources"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$tmp/apt/sources/"
done
cat > "$tmp/apt/sources/backports.sources" <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
apt_opts="-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=$tmp/apt/sources
  -o Dir::State::Lists=$tmp/apt/lists -o Dir::Cache=$tmp/apt/cache -o Debug::NoLocking=1
  -o APT::Sandbox::User=root"
command -v apt-get >/dev/null || skip "no apt-get on this machine"
(cd "$tmp" && timeout 120 apt-get $apt_opts update -qq >/dev/null 2>&1 &&
    timeout 120 apt-get $apt_opts download python3-varlink >/dev/null 2>&1) ||
    skip "could not fetch python3-varlink from bookworm-backports"
dpkg-deb -x "$tmp"/python3-varlink_*.deb "$tmp/root" || fail "dpkg-deb -x"
export PYTHONPATH="$tmp/root/usr/lib/python3/dist-packages"
python3 -c 'import varlink' || skip "the varlink module does not import"

# The interface file is valid IDL with a comment on every method, type and error.
python3 - "$src/docs/io.minisup.Manager.varlink" <<'EOT' || fail "interface description"
import sys, varlink
text = open(sys.argv[1]).read()
varlink.Interface(text)
prev = ""
for line in text.splitlines():
    word = line.split(" ", 1)[0]
    if word in ("method", "type", "error", "interface") and not prev.startswith("#"):
        sys.exit("no comment above: " + line)
    if line.strip():
        prev = line.strip()
EOT

mkdir -p "$tmp/units"
cat > "$tmp/units/sleeper.service" <<EOT
[Unit]
Description=Sleeper for the Varlink test
[Service]
ExecStart=/bin/sleep 1000
EOT
"$bin/minisupd" -d "$tmp/units" --runtime-dir "$tmp/run" --log-dir "$tmp/log" \
    >"$tmp/minisupd.log" 2>&1 &
daemon=$!
sock="$tmp/run/minisupd.sock"
i=0
until [ -S "$sock" ] && "$bin/minisupctl" -s "$sock" list-units >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 200 ] && fail "minisupd did not come up: $(cat "$tmp/minisupd.log")"
    sleep 0.05 # polling with a deadline, not synchronisation by sleep
done

cli() { timeout 20 python3 -m varlink.cli "$@" 2>&1; }
out=$(cli info "unix:$sock") || fail "info: $out"
echo "$out" | grep -q "io.minisup.Manager" || fail "info does not list io.minisup.Manager: $out"
out=$(cli help "unix:$sock/io.minisup.Manager")
echo "$out" | grep -q "method StartUnit" || fail "help: $out"
out=$(cli call "unix:$sock/io.minisup.Manager.StartUnit" '{"name": "sleeper"}')
echo "$out" | grep -q '"result": "done"' || fail "StartUnit: $out"
out=$(cli call "unix:$sock/io.minisup.Manager.GetUnit" '{"name": "sleeper.service"}')
echo "$out" | grep -q '"subState": "running"' || fail "GetUnit: $out"
out=$(cli call "unix:$sock/io.minisup.Manager.GetUnit" '{"name": "nope"}')
echo "$out" | grep -q "io.minisup.Manager.NoSuchUnit" || fail "unknown unit: $out"
out=$(cli call "unix:$sock/io.minisup.Manager.NoSuchMethod" '{}')
echo "$out" | grep -q "org.varlink.service.MethodNotFound" || fail "unknown method: $out"
out=$(cli call "unix:$sock/io.minisup.Manager.StopUnit" '{"name": "sleeper"}')
echo "$out" | grep -q '"result": "done"' || fail "StopUnit: $out"
echo "python3-varlink drove minisupd: info, help, call, errors"
exit 0
