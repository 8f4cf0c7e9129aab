#!/bin/sh
# Type=notify with Debian's real systemd-notify (package systemd) in shell-script services:
# READY=1 ends the start, STATUS= shows in status, a missing WATCHDOG=1 ping is a watchdog
# failure, and the same works for a service running as another user (as root: User=nobody).
# Exits 77 (skipped, naming the package) when systemd-notify is missing.
# Usage: notify_programs.sh BIN_DIR
set -u
bin=$1
notify=$(command -v systemd-notify || true)
[ -n "$notify" ] || { echo "SKIP: systemd-notify not installed (package systemd)" >&2; exit 77; }
tmp=$(mktemp -d /tmp/minisup-notify-XXXXXX)
chmod 755 "$tmp"
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/minisupd.log" >&2; exit 1; }
mkdir -p "$tmp/units"
# systemd-notify runs as a child of the shell, so its pid is not the main one: NotifyAccess=all.
cat > "$tmp/units/ready.service" <<EOT
[Service]
Type=notify
NotifyAccess=all
ExecStart=/bin/sh -c '$notify --status="warming up"; sleep 0.3; $notify --ready --status=serving; exec sleep 1000'
EOT
cat > "$tmp/units/hung.service" <<EOT
[Service]
Type=notify
NotifyAccess=all
WatchdogSec=300ms
ExecStart=/bin/sh -c '$notify --ready; exec sleep 1000'
EOT
cat > "$tmp/units/never.service" <<EOT
[Service]
Type=notify
TimeoutStartSec=500ms
ExecStart=/bin/sleep 1000
EOT
if [ "$(id -u)" = 0 ]; then
    cat > "$tmp/units/asuser.service" <<EOT
[Service]
Type=notify
NotifyAccess=all
User=nobody
ExecStart=/bin/sh -c '$notify --ready --status="as nobody"; exec sleep 1000'
EOT
fi
"$bin/minisupd" -d "$tmp/units" --runtime-dir "$tmp/run" --log-dir "$tmp/log" \
    >"$tmp/minisupd.log" 2>&1 &
daemon=$!
sock="$tmp/run/minisupd.sock"
ctl() { "$bin/minisupctl" -s "$sock" "$@"; }
i=0
until ctl list-units >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 200 ] && fail "minisupd did not come up"
    sleep 0.05 # polling with a deadline
done

ctl start ready || fail "the start of ready.service should end with READY=1"
ctl status ready | grep -q 'Status: "serving"' || fail "STATUS= not shown: $(ctl status ready)"
ctl start never && fail "a notify service that never says READY=1 must fail its start"
ctl status never | grep -q "Result: timeout" || fail "expected Result: timeout: $(ctl status never)"
ctl start hung || fail "hung.service should start"
i=0
until ctl status hung | grep -q "Result: watchdog"; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "no watchdog failure: $(ctl status hung)"
    sleep 0.05 # polling with a deadline
done
if [ -f "$tmp/units/asuser.service" ]; then
    ctl start asuser || fail "asuser.service: READY=1 from User=nobody"
    ctl status asuser | grep -q 'Status: "as nobody"' || fail "status of asuser"
    echo "READY=1 accepted from a service running as nobody"
fi
echo "systemd-notify: READY=1, STATUS=, start timeout and watchdog all behave as in systemd"
exit 0
