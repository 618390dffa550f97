#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# probe-check.sh PROBE — run the static probe (packaging/static/probe.c) where
# a static porthole must run, and show the evidence (make static-probe-check):
#  1. `file`: static-pie linked; two runs load main at different addresses;
#  2. on this host under strace: no shared library opened (glibc's NSS would
#     dlopen libnss_*.so; /etc/nsswitch.conf is read, by c-ares itself);
#     OpenSSH's ssh completes a key exchange with the probe's ssh_bind and
#     records the host key fingerprint the probe printed;
#  3. as PID 1 in a root holding only Debian's busybox-static (no libc, no CA
#     bundle, no nsswitch.conf): every step again, under strace.
# The HTTPS server is a Python echo of the request headers, with a throw-away
# CA; the name probe.test resolves from the root's /etc/hosts (on the host,
# from an /etc/hosts bind-mounted in a private mount namespace). Run as root.
set -eu
PROBE=$(realpath "$1")
W=$(mktemp -d /tmp/porthole-probe.XXXXXX)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT INT TERM
fail() { echo "probe-check: FAIL: $*" >&2; exit 1; }

echo "== 1. the file"
file "$PROBE" | grep -q 'static-pie linked' || fail "not static-pie: $(file "$PROBE")"
file "$PROBE" | sed 's/, BuildID[^,]*//'

# a throw-away certificate for probe.test, and the HTTPS echo server
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=probe.test -addext subjectAltName=DNS:probe.test \
	-keyout "$W/key.pem" -out "$W/ca.pem" 2>/dev/null
cat >"$W/echo.py" <<'EOF'
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("".join("  %s: %s\n" % kv for kv in self.headers.items())).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(sys.argv[3], "w").write(str(s.server_address[1]))
s.serve_forever()
EOF
python3 "$W/echo.py" "$W/ca.pem" "$W/key.pem" "$W/port" & srv=$!
i=0; while [ ! -s "$W/port" ]; do i=$((i + 1)); [ $i -lt 300 ] || fail "echo server did not start"; sleep 0.1; done
URL="https://probe.test:$(cat "$W/port")/sts"
printf '127.0.0.1 localhost\n127.0.0.1 probe.test\n' >"$W/hosts"

echo "== 2. on this host, under strace, with an ssh key exchange"
sshport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# shellcheck disable=SC2016 # expanded by the inner sh
unshare --mount sh -c 'mount --bind "$1/hosts" /etc/hosts && exec strace -f -qq -e trace=openat,open,execve -o "$1/strace.host" "$2" "$3" "$1/ca.pem" "$4"' \
	sh "$W" "$PROBE" "$URL" "$sshport" >"$W/out.host" 2>&1 &
pid=$!
i=0; until grep -q 'listening' "$W/out.host" 2>/dev/null; do i=$((i + 1)); [ $i -lt 300 ] || fail "probe did not listen"; sleep 0.1; done
ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o GlobalKnownHostsFile=/dev/null \
	-o UserKnownHostsFile="$W/known_hosts" -o HostKeyAlgorithms=ssh-ed25519 -p "$sshport" probe@127.0.0.1 true \
	>"$W/ssh.out" 2>&1 || true
wait "$pid" || { cat "$W/out.host"; fail "probe failed on the host"; }
cat "$W/out.host"
fp=$(sed -n 's/^libssh: ed25519 host key //p' "$W/out.host")
ssh-keygen -lf "$W/known_hosts" | grep -q "$fp" || fail "ssh saw another key: $(cat "$W/ssh.out")"
echo "ssh: recorded host key $(ssh-keygen -lf "$W/known_hosts")"
echo "strace: files the probe opened:"
sed 's/^[0-9]* *//' "$W/strace.host" | grep -v '^execve' | sort | uniq -c
if grep -E '\.so[."]|libnss' "$W/strace.host"; then fail "a shared library was opened"; fi
echo "no shared library opened (nsswitch.conf and resolv.conf are read by c-ares's own parser, in ares_init_options)"
"$PROBE" "$URL" "$W/ca.pem" 2>/dev/null | sed -n 's/.*main at \([^,]*\),.*/main at \1 (another run)/p'

echo "== 3. PID 1 in a busybox-static root"
R="$W/root"
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc" "$R/proc" "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
chroot "$R" /bin/busybox --install -s
cp "$W/hosts" "$R/etc/hosts"
cp "$PROBE" "$R/probe"
cp "$W/ca.pem" "$R/ca.pem"
echo "root holds: $(cd "$R" && find . -type f | sort | tr '\n' ' ')($(find "$R" -type l | wc -l) busybox links)"
[ -z "$(find "$R" -name 'ld-linux*' -o -name 'libc.so*' -o -name '*.so' -o -name 'ca-certificates.crt')" ] || fail "root is not bare"
strace -f -qq -e trace=openat,open,execve -o "$W/strace.root" \
	unshare --pid --fork --kill-child --mount-proc --root="$R" /probe "$URL" /ca.pem >"$W/out.root" 2>&1 ||
	{ cat "$W/out.root"; fail "probe failed in the busybox root"; }
cat "$W/out.root"
grep -q '^probe: pid 1,' "$W/out.root" || fail "the probe was not PID 1"
echo "strace: files the probe opened (after its execve):"
sed -n '/execve("\/probe"/,$p' "$W/strace.root" | sed 's/^[0-9]* *//' | grep -v -e '^execve' -e '^---' | sort | uniq -c
if sed -n '/execve("\/probe"/,$p' "$W/strace.root" | grep -E '\.so[."]|libnss'; then fail "a shared library was opened"; fi
echo "probe-check: ok"
