#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# build-rpm.sh VERSION OUTDIR — the source tarball and porthole.spec's binary
# and source RPMs, in OUTDIR; OUTDIR/porthole.rpm is a copy of the binary one.
# Run from the top of the tree (`make rpm`). Here on Debian rpmbuild runs with
# --nodeps: there is no rpm database to check BuildRequires against (the
# build uses the -dev packages from apt). On Amazon Linux 2023 or RHEL,
# `rpmbuild -ta OUTDIR/porthole-VERSION.tar.gz` builds the same from source.
set -eu
umask 022

version=$1
out=$2
spec=packaging/rpm/porthole.spec
top=$(pwd)/build/rpm-top

specv=$(sed -n 's/^Version:[[:space:]]*//p' $spec)
if [ "$specv" != "$version" ]; then
	echo "build-rpm.sh: $spec has Version $specv, agent/lib/version.h $version: update the spec" \
		"(Version and a %changelog entry)" >&2
	exit 1
fi

rm -rf "$top"
mkdir -p "$top/SOURCES" "$out"
# The tarball holds what `make install-dist` needs, and the spec for rpmbuild -ta.
tarball=$out/porthole-$version.tar.gz
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	--transform "s|^|porthole-$version/|" --exclude='*.o' --exclude=agent/porthole \
	-czf "$tarball" Makefile README.md LICENSE agent docs lifecycle packaging
cp "$tarball" "$top/SOURCES/"

rpmbuild -ba --nodeps "$spec" \
	--define "_topdir $top" \
	--define "_rpmdir $(cd "$out" && pwd)" \
	--define "_srcrpmdir $(cd "$out" && pwd)" \
	--define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
	>"$top/rpmbuild.log" 2>&1 || { tail -n 40 "$top/rpmbuild.log" >&2; exit 1; }

for rpm in "$out"/porthole-"$version"-*.rpm; do
	case "$rpm" in *.src.rpm) ;; *) break ;; esac
done
cp "$rpm" "$out/porthole.rpm"
echo "build-rpm.sh: $rpm (log: $top/rpmbuild.log)"
