#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# rootfs.sh — print the path of a root filesystem tarball, building it the
# first time: a Debian minbase root made with debootstrap from the package
# mirror (bookworm unless a suite is named), or a root holding nothing but
# Debian's busybox-static.  Image, chroot and static-binary tests start from
# them; they are cached (PORTHOLE_ROOTFS_CACHE, default
# /var/cache/porthole-tests) because debootstrap takes minutes and the result
# only changes with the mirror.
#
# Usage: rootfs.sh [--rebuild] [SUITE [PKG...]]
#   SUITE    bookworm (default), bullseye, trixie: Debian minbase of that suite;
#            busybox: /bin/busybox of the host suite's busybox-static and its
#            applets as links, a minimal /etc/passwd and /etc/group, nothing
#            else (no libc, no CA certificates, no nsswitch.conf)
#   PKG...   Debian suites only: packages of that suite installed too
#            (debootstrap --include); they are part of the cached name
#   --rebuild  build again
set -eu

cache=${PORTHOLE_ROOTFS_CACHE:-/var/cache/porthole-tests}
# The mirror apt already uses, so CI needs nothing else reachable.
mirror=${PORTHOLE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

rebuild=
if [ "${1:-}" = "--rebuild" ]; then
	rebuild=1
	shift
fi
suite=${1:-bookworm}
[ $# -eq 0 ] || shift
case $suite in
bullseye | bookworm | trixie) ;;
busybox)
	[ $# -eq 0 ] || {
		echo "rootfs.sh: the busybox root takes no packages" >&2
		exit 2
	}
	;;
*)
	echo "rootfs.sh: unknown argument '$suite' (expected [--rebuild] [bullseye|bookworm|trixie|busybox [PKG...]])" >&2
	exit 2
	;;
esac
for p in "$@"; do
	case $p in
	-* | *[!a-z0-9.+-]*)
		echo "rootfs.sh: '$p' is not a Debian package name" >&2
		exit 2
		;;
	esac
done

if [ "$suite" = busybox ]; then
	tarball=$cache/busybox-static.tar
else
	# Extra packages sorted into the name: the same set is one cache entry.
	extra=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
	tarball=$cache/debian-$suite-minbase${extra:++$(echo "$extra" | tr , +)}.tar
fi
[ -z "$rebuild" ] || rm -f "$tarball"

if [ -s "$tarball" ]; then
	echo "$tarball"
	exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

busybox_root() {
	root=$1
	# Debian's package (apt's own mirror and keys), unpacked, never installed.
	(cd "$work" && apt-get download busybox-static) >"$work/log" 2>&1 || {
		echo "rootfs.sh: apt-get download busybox-static failed:" >&2
		tail -n 20 "$work/log" >&2
		exit 1
	}
	dpkg-deb -x "$work"/busybox-static_*.deb "$work/pkg"
	for d in bin sbin usr/bin usr/sbin usr/local/bin etc root tmp proc sys dev run var/tmp; do
		mkdir -p "$root/$d"
	done
	chmod 1777 "$root/tmp" "$root/var/tmp"
	chmod 0700 "$root/root"
	cp "$work/pkg/bin/busybox" "$root/bin/busybox"
	# Every applet where busybox --install would put it (bin/sh among them).
	"$root/bin/busybox" --list-full | while read -r applet; do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
	# What the busybox image on Docker Hub has: root with ash as its shell.
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

if [ "$suite" = busybox ]; then
	busybox_root "$work/root"
else
	command -v debootstrap >/dev/null || {
		echo "rootfs.sh: debootstrap is not installed (apt-get install debootstrap)" >&2
		exit 1
	}
	# minbase: apt, dpkg and coreutils only; images add what they need.
	debootstrap --variant=minbase ${extra:+--include="$extra"} "$suite" "$work/root" "$mirror" \
		>"$work/log" 2>&1 || {
		echo "rootfs.sh: debootstrap $suite failed; last lines of its log:" >&2
		tail -n 20 "$work/log" >&2
		exit 1
	}
	# apt caches and lists would only make every image bigger.
	rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
fi
tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$tarball"
echo "$tarball"
