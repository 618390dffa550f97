#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The wrapper under valgrind: a plain run, a failing run with a hold that the
# CLI inspects and releases, and the CLI itself.  Any error or definite leak
# fails (exit 99).
set -euo pipefail
bin=${PORTHOLE_BIN:?PORTHOLE_BIN must point at the porthole binary}
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --trace-children=no)
export PORTHOLE_CONTROL_SOCKET=$tmp/control.sock PORTHOLE_ML_ROOT=$tmp/ml PORTHOLE_CONFIG=/dev/null PORTHOLE_SSH_PORT=0
mkdir -p "$tmp/ml/output"

echo "== valgrind: porthole run -- true"
"${vg[@]}" "$bin" run --hold never -- true

echo "== valgrind: failing command held, status, extend, release"
"${vg[@]}" "$bin" run --hold on-failure --window 60s -- sh -c 'exit 3' >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 100); do
	"$bin" status >/dev/null 2>&1 && "$bin" status --json | grep -q '"state":"holding"' && break
	sleep 0.1
done
"${vg[@]}" "$bin" status
"${vg[@]}" "$bin" extend 5m >/dev/null
"${vg[@]}" "$bin" release
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" != 3 ]; then
	echo "expected exit status 3 from the held run, got $rc"
	cat "$tmp/out"
	exit 1
fi
echo "== valgrind: config with bad values"
PORTHOLE_WINDOW=abc "${vg[@]}" "$bin" config >/dev/null 2>&1
echo "valgrind: clean"
