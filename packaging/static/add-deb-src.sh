#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# add-deb-src.sh — give apt a deb-src entry for every enabled deb entry (same
# mirror, suites, components), so that `apt-get source` works for the static
# build (packaging/static/deps.mk). Idempotent; run as root; then apt-get update.
#
# The entries go into a file of their own (porthole-deb-src.sources / .list),
# derived from the deb entries each time, so the system's files are untouched
# and removing that file undoes this. Handles deb822 (*.sources) and one-line
# (sources.list, *.list) formats. If some deb-src entry exists already outside
# our file, nothing is added (apt warns about entries configured twice).
set -eu

D=${APT_SOURCES_DIR:-/etc/apt}
OURS822="$D/sources.list.d/porthole-deb-src.sources"
OURSONE="$D/sources.list.d/porthole-deb-src.list"

# Files apt reads (it ignores other extensions, e.g. *.disabled), ours excluded.
files822=; filesone=; changed=
[ -f "$D/sources.list" ] && filesone="$D/sources.list"
for f in "$D"/sources.list.d/*.sources; do
	[ -f "$f" ] && [ "$f" != "$OURS822" ] && files822="$files822 $f"
done
for f in "$D"/sources.list.d/*.list; do
	[ -f "$f" ] && [ "$f" != "$OURSONE" ] && filesone="$filesone $f"
done

# deb-src already configured by someone else: leave it be.
have=
# shellcheck disable=SC2086
[ -n "$files822" ] && grep -qiE '^Types:.*deb-src' $files822 && have=1
# shellcheck disable=SC2086
[ -n "$filesone" ] && grep -qE '^[[:space:]]*deb-src[[:space:]]' $filesone && have=1

if [ -n "$have" ]; then
	echo "add-deb-src: a deb-src entry exists already"
	for f in "$OURS822" "$OURSONE"; do [ -e "$f" ] && rm -f "$f" && changed=1; done
else
	tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
	# deb822: copy each enabled stanza whose Types holds "deb", as Types: deb-src.
	# Continuation lines (e.g. an inline Signed-By key) are copied as they are.
	if [ -n "$files822" ]; then
		# shellcheck disable=SC2086
		awk '
		function flush() { if (n && isdeb && !off) { for (i = 1; i <= n; i++) print st[i]; print "" } n = 0; isdeb = 0; off = 0 }
		FNR == 1 { flush() }
		/^[[:space:]]*$/ { flush(); next }
		/^#/ { next }
		tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1; st[++n] = "Types: deb-src"; next }
		tolower($1) == "enabled:" && tolower($2) == "no" { off = 1 }
		{ st[++n] = $0 }
		END { flush() }' $files822 >"$tmp"
		if [ -s "$tmp" ]; then
			{ echo "# written by porthole packaging/static/add-deb-src.sh: deb-src twins of the deb entries"; cat "$tmp"; } >"$tmp.new"
			cmp -s "$tmp.new" "$OURS822" 2>/dev/null || { cp "$tmp.new" "$OURS822"; chmod 0644 "$OURS822"; changed=1; echo "add-deb-src: wrote $OURS822"; }
			rm -f "$tmp.new"
		fi
	fi
	# one-line: "deb [opts] uri suite comp..." -> "deb-src [opts] uri suite comp...".
	if [ -n "$filesone" ]; then
		# shellcheck disable=SC2086
		sed -n 's/^[[:space:]]*deb[[:space:]]\{1,\}/deb-src /p' $filesone | sort -u >"$tmp"
		if [ -s "$tmp" ]; then
			{ echo "# written by porthole packaging/static/add-deb-src.sh: deb-src twins of the deb entries"; cat "$tmp"; } >"$tmp.new"
			cmp -s "$tmp.new" "$OURSONE" 2>/dev/null || { cp "$tmp.new" "$OURSONE"; chmod 0644 "$OURSONE"; changed=1; echo "add-deb-src: wrote $OURSONE"; }
			rm -f "$tmp.new"
		fi
	fi
fi

[ -n "${NO_APT_UPDATE:-}" ] && exit 0
# shellcheck disable=SC2016 # $(CREATED_BY) is apt's field, not the shell's
if [ -n "$changed" ] || ! apt-get indextargets --format '$(CREATED_BY)' | grep -qx Sources; then
	apt-get update
fi
