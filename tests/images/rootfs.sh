#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# rootfs.sh — print the path of a Debian 12 (bookworm) minbase root
# filesystem tarball, building it with debootstrap from the package mirror
# the first time.  Image and chroot tests start from it; it is cached
# (PORTHOLE_ROOTFS_CACHE, default /var/cache/porthole-tests) because
# debootstrap takes minutes and the result only changes with the mirror.
#
# Usage: rootfs.sh            build if missing, print the tarball's path
#        rootfs.sh --rebuild  build again
set -eu

cache=${PORTHOLE_ROOTFS_CACHE:-/var/cache/porthole-tests}
suite=bookworm
# The mirror apt already uses, so CI needs nothing else reachable.
mirror=${PORTHOLE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tarball=$cache/debian-$suite-minbase.tar

if [ "${1:-}" = "--rebuild" ]; then
	rm -f "$tarball"
elif [ $# -gt 0 ]; then
	echo "rootfs.sh: unknown argument '$1' (expected nothing or --rebuild)" >&2
	exit 2
fi

if [ -s "$tarball" ]; then
	echo "$tarball"
	exit 0
fi

command -v debootstrap >/dev/null || {
	echo "rootfs.sh: debootstrap is not installed (apt-get install debootstrap)" >&2
	exit 1
}
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
# minbase: apt, dpkg and coreutils only; images add what they need.
debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$work/log" 2>&1 || {
	echo "rootfs.sh: debootstrap failed; last lines of its log:" >&2
	tail -n 20 "$work/log" >&2
	exit 1
}
# apt caches and lists would only make every image bigger.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$tarball"
echo "$tarball"
