#!/bin/sh
# SEC-1..SEC-4: who may do what over the control socket, decided by SO_PEERCRED. A root
# daemon's socket is 0666; anyone may read unit state, only root, the daemon's user and
# --admin-group members may change it or read logs. Needs root (to act as other users through
# setpriv); exits 77 (skipped, with the reason) otherwise.
# Usage: access.sh BIN_DIR
set -u
bin=$1
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to test other users" >&2; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: no setpriv (util-linux)" >&2; exit 77; }
tmp=$(mktemp -d /tmp/minisup-access-XXXXXX)
chmod 755 "$tmp"
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/minisupd.log" >&2; exit 1; }

# A group of our own for --admin-group, and an unprivileged uid in it or not.
admin_gid=$(awk -F: 'BEGIN{g=60000} {used[$3]=1} END{while (g in used) g++; print g}' /etc/group)
mkdir -p "$tmp/units"
cat > "$tmp/units/sleeper.service" <<EOT
[Unit]
Description=Sleeper for the access test
[Service]
ExecStart=/bin/sleep 1000
EOT
"$bin/minisupd" -d "$tmp/units" --runtime-dir "$tmp/run" --log-dir "$tmp/log" \
    --admin-group "$admin_gid" >"$tmp/minisupd.log" 2>&1 &
daemon=$!
sock="$tmp/run/minisupd.sock"
i=0
until "$bin/minisupctl" -s "$sock" list-units >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 200 ] && fail "minisupd did not come up"
    sleep 0.05 # polling with a deadline
done
[ "$(stat -c %a "$sock")" = 666 ] || fail "a root daemon's socket must be 0666, is $(stat -c %a "$sock")"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/minisupctl" -s "$sock" "$@"; }
as_admin() {
    setpriv --reuid=65534 --regid=65534 --groups="$admin_gid" "$bin/minisupctl" -s "$sock" "$@"
}

"$bin/minisupctl" -s "$sock" start sleeper || fail "root cannot start"
as_nobody list-units --all >/dev/null || fail "SEC-1: anyone may list units"
as_nobody is-active sleeper >/dev/null || fail "SEC-1: anyone may read unit state"
out=$(as_nobody stop sleeper 2>&1) && fail "SEC-2: nobody stopped a unit"
echo "$out" | grep -qi "denied\|permission" || fail "SEC-2: unclear refusal: $out"
"$bin/minisupctl" -s "$sock" is-active sleeper >/dev/null || fail "SEC-2: the unit was stopped"
out=$(as_nobody journal sleeper 2>&1) && fail "SEC-3: nobody read the journal: $out"
as_admin stop sleeper || fail "SEC-4: an --admin-group member may stop units"
as_admin journal sleeper -n 5 >/dev/null || fail "SEC-4: an --admin-group member may read logs"
grep -q "Denied" "$tmp/minisupd.log" || fail "refusals are logged"
echo '{"test":"SEC-1..4","metric":"refusals_checked","value":3,"limit":3}'
exit 0
