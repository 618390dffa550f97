#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# static.sh — `make static`: why there is no static porthole binary (exit 1).
# Checked on Debian 12; see docs/packaging.md, "No static binary".
cat >&2 <<'MSG'
make static: no static porthole binary; not feasible with its libraries:

  * libssh and libcurl are dlopen()ed at run time (agent/sshd_lib.c,
    agent/curl_lib.c), so that PID 1 never maps OpenSSL and libcurl's
    dependency tree. A static glibc binary that calls dlopen() still needs
    the shared libssh.so.4 and libcurl.so.4 in the image, and a libc.so.6 of
    exactly the glibc it was linked with: no longer one file to COPY.
  * Linking them in statically instead: Debian 12 has libssh.a and libcurl.a
    (and OpenSSL's .a files), but no static libsystemd (libsystemd-dev ships
    only libsystemd.so; porthole's event loop is sd-event) and no libcjson.a.
  * musl (Debian's musl-tools) would need libssh, libcurl, OpenSSL, cJSON and
    libsystemd all rebuilt against musl, and systemd does not support musl.

Instead: install the .deb (make deb) or the RPM (make rpm), or use a
multi-stage image build that copies the binary with its runtime libraries.
MSG
exit 1
