#!/bin/sh
# Socket activation with programs we did not write (issue 7): Debian's dbus-daemon
# (--address=systemd: takes its listening socket from LISTEN_FDS) and systemd's
# systemd-socket-proxyd (proxies connections on its LISTEN_FDS socket to a backend). Each part
# skips, naming the package, when the program is not installed; the script exits 77 when both
# were skipped.
# Usage: activation_programs.sh BIN_DIR
set -u
bin=$1
tmp=$(mktemp -d /tmp/minisup-actprog-XXXXXX)
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$tmp/minisupd.log" >&2; exit 1; }
ran=0
mkdir -p "$tmp/units"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

dbus_daemon=$(command -v dbus-daemon || true)
dbus_send=$(command -v dbus-send || true)
proxyd=/lib/systemd/systemd-socket-proxyd
[ -x "$proxyd" ] || proxyd=/usr/lib/systemd/systemd-socket-proxyd

if [ -n "$dbus_daemon" ] && [ -n "$dbus_send" ] && [ -f /usr/share/dbus-1/session.conf ]; then
    cat > "$tmp/units/bus.socket" <<EOT
[Socket]
ListenStream=$tmp/bus.sock
[Install]
WantedBy=sockets.target
EOT
    cat > "$tmp/units/bus.service" <<EOT
[Service]
ExecStart=$dbus_daemon --session --address=systemd: --nofork --nopidfile
EOT
else
    echo "SKIP part: dbus-daemon/dbus-send not installed (packages dbus-daemon, dbus-bin)" >&2
fi
if [ -x "$proxyd" ]; then
    backend=$(free_port)
    front=$(free_port)
    cat > "$tmp/units/backend.service" <<EOT
[Service]
ExecStart=/usr/bin/python3 -m http.server --bind 127.0.0.1 $backend --directory $tmp/www
[Install]
WantedBy=multi-user.target
EOT
    cat > "$tmp/units/proxy.socket" <<EOT
[Socket]
ListenStream=127.0.0.1:$front
[Install]
WantedBy=sockets.target
EOT
    cat > "$tmp/units/proxy.service" <<EOT
[Service]
ExecStart=$proxyd 127.0.0.1:$backend
EOT
    mkdir -p "$tmp/www"
    echo "served through systemd-socket-proxyd" > "$tmp/www/hello.txt"
else
    echo "SKIP part: systemd-socket-proxyd not installed (package systemd)" >&2
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

if [ -f "$tmp/units/bus.socket" ]; then
    ctl is-active bus.service >/dev/null && fail "bus.service must wait for its first client"
    out=$(timeout 20 "$dbus_send" --bus="unix:path=$tmp/bus.sock" --print-reply \
        --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames 2>&1) ||
        fail "dbus-send through the activated bus: $out"
    echo "$out" | grep -q "org.freedesktop.DBus" || fail "unexpected ListNames reply: $out"
    ctl is-active bus.service >/dev/null || fail "the first client should have started bus.service"
    echo "dbus-daemon served a call on a socket minisupd passed in LISTEN_FDS"
    ran=$((ran + 1))
fi
if [ -f "$tmp/units/proxy.socket" ]; then
    i=0
    until python3 -c "import socket; socket.create_connection(('127.0.0.1', $backend), 1)" \
        2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 200 ] && fail "the backend did not come up"
        sleep 0.05 # polling with a deadline
    done
    out=$(timeout 20 python3 -c "import urllib.request as u; \
print(u.urlopen('http://127.0.0.1:$front/hello.txt', timeout=10).read().decode())" 2>&1) ||
        fail "a request through the activated proxy: $out"
    echo "$out" | grep -q "served through systemd-socket-proxyd" || fail "unexpected body: $out"
    ctl is-active proxy.service >/dev/null || fail "the connection should have started proxy.service"
    echo "systemd-socket-proxyd served a request on a socket minisupd passed in LISTEN_FDS"
    ran=$((ran + 1))
fi
[ $ran -gt 0 ] || { echo "SKIP: neither program is installed" >&2; exit 77; }
exit 0
