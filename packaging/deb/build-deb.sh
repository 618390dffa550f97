#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# build-deb.sh VERSION OUTDIR — build OUTDIR/porthole_VERSION-REV_ARCH.deb with
# dpkg-deb (no debhelper: one binary package from the top-level Makefile).
# Run from the top of the tree (`make deb`). Steps:
#   1. compile with Debian's hardening flags into build/deb (not build/std);
#   2. `make install-dist` into a staging root, PREFIX=/usr, units in
#      /lib/systemd/system (Debian 12's place for them);
#   3. strip, compress the man page and the changelog, add the copyright;
#   4. Depends: dpkg-shlibdeps for what the binary links (libc6, libcjson1,
#      libsystemd0), plus libssh-4 and libcurl4, which porthole dlopen()s and
#      shlibdeps cannot see, at least the versions it was built and tested with;
#   5. dpkg-deb --root-owner-group, then a copy at OUTDIR/porthole.deb.
set -eu
umask 022

version=$1
out=$2
rev=1
deb_version=$version-$rev
arch=$(dpkg --print-architecture)
here=packaging/deb
work=build/deb-pkg
root=$work/root
bin=build/deb/porthole

# The changelog's top entry names the version being built, or lintian and
# apt users see a wrong one.
top=$(sed -n '1s/^porthole (\([^)]*\)).*/\1/p' $here/changelog)
if [ "$top" != "$deb_version" ]; then
	echo "build-deb.sh: $here/changelog starts with $top, not $deb_version (agent/lib/version.h):" \
		"add an entry for $deb_version" >&2
	exit 1
fi

rm -rf "$work"
mkdir -p "$root/DEBIAN" "$out"

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
make --no-print-directory BUILD=build/deb CFLAGS="$cflags" LDFLAGS="$ldflags" DIST_BIN=$bin \
	DESTDIR="$root" PREFIX=/usr UNITDIR=/lib/systemd/system install-dist

doc=$root/usr/share/doc/porthole
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/porthole"
gzip -9n "$root/usr/share/man/man8/porthole.8"
install -m 0644 $here/copyright "$doc/copyright"
gzip -9nc $here/changelog >"$doc/changelog.Debian.gz"
if [ -f $here/lintian-overrides ]; then
	install -D -m 0644 $here/lintian-overrides "$root/usr/share/lintian/overrides/porthole"
fi
for s in postinst prerm postrm; do
	install -m 0755 $here/$s "$root/DEBIAN/$s"
done
printf '%s\n' /etc/porthole/porthole.conf >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control; give it a minimal one in $work.
mkdir -p "$work/debian"
printf 'Source: porthole\n\nPackage: porthole\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O root/usr/bin/porthole 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
upstream() { dpkg-query -W -f='${Version}' "$1" | sed 's/-[^-]*$//'; }
depends="$shlibs, libssh-4 (>= $(upstream libssh-4)), libcurl4 (>= $(upstream libcurl4))"
for lib in libc6 libcjson1 libsystemd0; do
	case "$depends" in *"$lib "*) ;; *) echo "build-deb.sh: dpkg-shlibdeps found no $lib: $shlibs" >&2; exit 1 ;; esac
done

maintainer=$(sed -n 's/^ -- \(.*>\)  .*/\1/p' $here/changelog | head -n 1)
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$deb_version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
	-e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" $here/control.in >"$root/DEBIAN/control"

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control" "$root/DEBIAN/conffiles"

deb=$out/porthole_${deb_version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
cp "$deb" "$out/porthole.deb"
echo "build-deb.sh: $deb (Depends: $depends)"
