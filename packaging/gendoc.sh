#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# gendoc.sh BINARY OUTDIR — porthole.8, porthole.conf and configuration.md
# from the binary's own settings table, so the man page, the default conf file
# and docs/configuration.md can never list a setting the binary does not know,
# miss one, or show another default.
#
# The table comes from `BINARY --help` (config.c's config_print_flags):
#   "  --window           how long a hold lasts (PORTHOLE_WINDOW, default 30m)"
# packaging/porthole.8.in is the hand-written page; its @SETTINGS@ line is
# replaced by one entry per setting, and @VERSION@ by `BINARY version`.
# packaging/configuration.md.in is the hand-written part of
# docs/configuration.md: its @SETTINGS@ line becomes a Markdown table, and its
# "@note PORTHOLE_X text" lines are appended to that setting's row (a note for
# a setting the binary does not have is an error). `make docs` copies
# OUTDIR/configuration.md to docs/, and tests/packaging checks that the
# committed file is what this script makes.
# POSIX sh and awk only: the RPM spec runs this on Amazon Linux too.
set -eu

bin=$1
out=$2
here=$(dirname "$0")
mkdir -p "$out"

version=$("$bin" version | sed -n 's/^porthole //p')
[ -n "$version" ] || { echo "gendoc.sh: $bin version printed no version" >&2; exit 1; }

# One tab-separated line per setting: flag, KEY, default, help.
"$bin" --help | awk '
	/^  --[a-z0-9-]+ .*\(PORTHOLE_[A-Z0-9_]+, default .*\)$/ {
		flag = $1; sub(/^--/, "", flag)
		rest = substr($0, index($0, $1) + length($1))
		sub(/^ +/, "", rest)
		i = match(rest, / \(PORTHOLE_[A-Z0-9_]+, default .*\)$/)
		help = substr(rest, 1, i - 1)
		tail = substr(rest, i + 2); sub(/\)$/, "", tail)
		key = tail; sub(/, default .*/, "", key)
		def = tail; sub(/^[^,]*, default /, "", def)
		if (key == "PORTHOLE_CONFIG") next
		if (def == "unset") def = ""
		printf "%s\t%s\t%s\t%s\n", flag, key, def, help
	}' >"$out/settings.tsv"
n=$(wc -l <"$out/settings.tsv")
[ "$n" -gt 0 ] || { echo "gendoc.sh: no settings found in \`$bin --help\`" >&2; exit 1; }

# ---- the man page --------------------------------------------------------
# roff: `x` becomes bold, "-" in flags and keys an explicit minus, and a
# leading "." or "'" is escaped so no text line becomes a request.
awk -F'\t' '
	function roff(s) {
		gsub(/\\/, "\\e", s)
		while (match(s, /`[^`]*`/))
			s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fP" substr(s, RSTART + RLENGTH)
		if (s ~ /^[.'"'"']/) s = "\\&" s
		return s
	}
	function minus(s) { gsub(/-/, "\\-", s); return s }
	{
		print ".TP"
		print ".BR " $2 " \" (\" \\-\\-" minus($1) " )"
		print roff($4) "."
		if ($3 == "") print "Default: unset."
		else print "Default: \\fB" roff($3) "\\fP."
	}' "$out/settings.tsv" >"$out/settings.roff"
awk -v version="$version" -v settings="$out/settings.roff" '
	$0 == "@SETTINGS@" { while ((getline l < settings) > 0) print l; next }
	{ gsub(/@VERSION@/, version); print }' "$here/porthole.8.in" >"$out/porthole.8"

# ---- the default conf file -----------------------------------------------
{
	cat <<'HEAD'
# /etc/porthole/porthole.conf — porthole's settings on this machine.
#
# One KEY=VALUE per line; whole-line # comments. Values may be quoted
# ("..." or '...'), so systemd reads this file too (porthole.service's
# EnvironmentFile=). Every setting is listed below, commented out, with its
# default: uncomment a line and change its value. A flag, the environment
# (PORTHOLE_*) or a SageMaker hyperparameter (porthole_*) overrides this file.
# `porthole config` shows each effective value and where it came from;
# porthole(8) describes them all. A bad value is logged and the default used.
HEAD
	awk -F'\t' '{ printf "\n# %s\n#%s=%s\n", $4, $2, $3 }' "$out/settings.tsv"
} >"$out/porthole.conf"

# ---- docs/configuration.md -----------------------------------------------
# Markdown: outside `code`, "<" and "|" are escaped, or a <job> placeholder
# would vanish as an HTML tag and a "|" would split the table's cell.
awk -F'\t' -v tsv="$out/settings.tsv" '
	function md(s,    o, c) {
		o = ""
		while (match(s, /`[^`]*`/)) {
			c = substr(s, 1, RSTART - 1)
			gsub(/</, "\\&lt;", c); gsub(/\|/, "\\|", c)
			o = o c substr(s, RSTART, RLENGTH)
			s = substr(s, RSTART + RLENGTH)
		}
		gsub(/</, "\\&lt;", s); gsub(/\|/, "\\|", s)
		return o s
	}
	BEGIN {
		while ((getline l < tsv) > 0) { split(l, f, "\t"); n++; key[n] = f[2]; flag[n] = f[1]; def[n] = f[3]; help[n] = f[4]; known[f[2]] = 1 }
	}
	FNR == NR && /^@note / {
		k = $0; sub(/^@note /, "", k); t = k; sub(/ .*/, "", k); sub(/^[^ ]* /, "", t)
		if (!(k in known)) { printf "gendoc.sh: %s: @note for %s, which `porthole --help` does not list\n", FILENAME, k > "/dev/stderr"; bad = 1 }
		if (k in note) t = note[k] " " t
		note[k] = t
		next
	}
	FNR == NR { next }
	/^@note / { next }
	$0 == "@SETTINGS@" {
		print "| setting | flag | default | meaning |"
		print "|---|---|---|---|"
		for (i = 1; i <= n; i++) {
			m = md(help[i]) "."
			if (key[i] in note) m = m " " note[key[i]]
			printf "| `%s` | `--%s` | %s | %s |\n", key[i], flag[i], def[i] == "" ? "unset" : "`" def[i] "`", m
		}
		next
	}
	{ print }
	END { if (bad) exit 1 }' "$here/configuration.md.in" "$here/configuration.md.in" >"$out/configuration.md"
