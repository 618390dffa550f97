#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# install_porthole.sh — put porthole on a SageMaker HyperPod node, from the
# cluster's on_create lifecycle script (README.md in this directory).
#
#   bash install_porthole.sh [--package FILE] [--users FILE] [--keys DIR]
#                            [--port N] [--log FILE]
#
# Runs as root.  It
#   1. installs the porthole package (.deb with apt-get, .rpm with dnf/yum),
#      unless that version is installed already;
#   2. authorizes the public keys <keys>/<user>.pub of the users listed in a
#      shared_users.txt-style file ("user,uid,home" lines, as AWS's sample
#      add_users.sh reads) in a marked block of /etc/porthole/authorized_keys;
#   3. sets PORTHOLE_SSH_PORT (default 2222; the node's sshd keeps 22) in a
#      marked block of /etc/porthole/porthole.conf;
#   4. enables porthole.service and, when systemd runs, (re)starts it: the
#      service then announces the node (cluster, instance, host key) to the
#      cluster's CloudWatch log group.  In a chroot or image build it is only
#      enabled and starts at boot.
# Running it again changes nothing unless its inputs changed.  Each step
# appends to /var/log/provision/provisioning.log, as AWS's sample scripts do.
# It exits non-zero when a step fails; on_create.sh decides whether that
# should fail the node (`bash install_porthole.sh || true` if it should not).
#
# Options are flags, not environment variables: porthole reads every
# PORTHOLE_* variable as one of its settings.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
package=
users_file=$here/shared_users.txt
keys_dir=$here/porthole_keys
port=2222
log_file=/var/log/provision/provisioning.log

conf=/etc/porthole/porthole.conf
authkeys=/etc/porthole/authorized_keys
begin_mark="# BEGIN install_porthole.sh (HyperPod lifecycle): replaced on every run"
end_mark="# END install_porthole.sh"

# Messages go to the log and to stderr (stdout carries data between steps).
log() {
	printf '%s [porthole] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" | tee -a "$log_file" >&2
}

die() {
	log "ERROR: $*"
	exit 1
}

usage() {
	sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--package) package=${2:?--package needs a file}; shift 2 ;;
	--users) users_file=${2:?--users needs a file}; shift 2 ;;
	--keys) keys_dir=${2:?--keys needs a directory}; shift 2 ;;
	--port) port=${2:?--port needs a number}; shift 2 ;;
	--log) log_file=${2:?--log needs a file}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "install_porthole.sh: unknown argument '$1'" >&2; usage ;;
	esac
done

mkdir -p "$(dirname "$log_file")" 2>/dev/null || true
if ! [[ $port =~ ^[0-9]{1,5}$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
	die "--port $port: expected a TCP port number (1-65535)"
fi
[ "$(id -u)" = 0 ] || die "must run as root (HyperPod runs lifecycle scripts as root)"

# New contents are built in a scratch directory outside /etc, so that a run
# that changes nothing does not even touch the directories' mtimes.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# replace_if_changed NEW DEST MODE — put NEW in place of DEST only if the
# content differs (renamed from DEST's own directory, so readers see the old
# file or the new one, never half of it); true if DEST changed.
replace_if_changed() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		return 1
	fi
	install -m "$3" "$1" "$2.install_porthole.new"
	mv -f "$2.install_porthole.new" "$2"
	return 0
}

# with_block FILE BLOCKFILE — FILE's lines outside our marked block, then
# the block from BLOCKFILE (nothing when it is empty), on stdout.
with_block() {
	if [ -f "$1" ]; then
		awk -v b="$begin_mark" -v e="$end_mark" '
			$0 == b { skip = 1; next }
			$0 == e { skip = 0; next }
			!skip' "$1"
	fi
	if [ -s "$2" ]; then
		echo "$begin_mark"
		cat "$2"
		echo "$end_mark"
	fi
}

# ---- 1. the package ----------------------------------------------------------

install_package() {
	local kind want have
	if command -v dpkg >/dev/null 2>&1; then kind=deb; else kind=rpm; fi
	if [ -z "$package" ]; then
		package=$(find "$here" -maxdepth 1 -name "porthole*.$kind" | sort | tail -n 1)
	fi
	if [ -z "$package" ]; then
		command -v porthole >/dev/null 2>&1 ||
			die "no porthole package: give --package FILE or put porthole*.$kind next to this script ($here)"
		log "no package given; keeping the installed $(command -v porthole)"
		return 0
	fi
	[ -f "$package" ] || die "--package $package: no such file"
	case $package in /*) ;; *) package=$PWD/$package ;; esac

	if [ "$kind" = deb ]; then
		want=$(dpkg-deb -f "$package" Version) || die "$package is not a .deb package"
		have=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' porthole 2>/dev/null || true)
		if [ "$have" = "ii $want" ]; then
			log "porthole $want is installed already"
			return 0
		fi
		log "installing porthole $want from $package"
		# confold: an upgrade keeps the conf file this script edits.
		export DEBIAN_FRONTEND=noninteractive
		local apt=(apt-get install -y -q -o Dpkg::Options::=--force-confold "$package")
		if ! "${apt[@]}" >>"$log_file" 2>&1; then
			# A fresh image may have no package lists to find the dependencies in.
			log "apt-get install failed; updating the package lists and trying again"
			apt-get update -q >>"$log_file" 2>&1 || true
			"${apt[@]}" >>"$log_file" 2>&1 || die "apt-get install $package failed (see above in $log_file)"
		fi
	else
		# Amazon Linux / RHEL-family nodes: not tested by porthole's test suite.
		want=$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$package" 2>/dev/null) || die "$package is not an RPM package"
		have=$(rpm -q --qf '%{VERSION}-%{RELEASE}' porthole 2>/dev/null || true)
		if [ "$have" = "$want" ]; then
			log "porthole $want is installed already"
			return 0
		fi
		log "installing porthole $want from $package"
		if command -v dnf >/dev/null 2>&1; then
			dnf install -y "$package" >>"$log_file" 2>&1 || die "dnf install $package failed (see $log_file)"
		else
			yum install -y "$package" >>"$log_file" 2>&1 || die "yum install $package failed (see $log_file)"
		fi
	fi
	log "installed porthole $want"
	# The package does not restart a running porthole on upgrade (it may
	# carry the upgrader's session); at node setup nobody is logged in yet.
	changed=1
}

# ---- 2. the users' keys ------------------------------------------------------

# OpenSSH public key types porthole accepts; anything else in a .pub file is
# refused by line rather than copied into a root login file.
key_re='(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)[[:space:]]+[A-Za-z0-9+/]+={0,2}'

# user_keys USER FILE — FILE's usable key lines with USER as the comment (so
# porthole's ssh_login audit event names the cluster user), on stdout.
user_keys() {
	local user=$1 file=$2 n=0 bad=0 lineno=0 line key
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		line=${line%$'\r'}
		case $line in '' | '#'*) continue ;; esac
		# [options] type base64 [comment] -> [options] type base64 USER
		key=$(printf '%s\n' "$line" | sed -En "s/^((.*[[:space:]])?$key_re)([[:space:]].*)?\$/\\1/p")
		if [ -z "$key" ]; then
			log "ERROR: $file:$lineno: expected an OpenSSH public key line ([options] type base64 [comment]); line skipped"
			bad=$((bad + 1))
			continue
		fi
		printf '%s %s\n' "$key" "$user"
		n=$((n + 1))
	done <"$file"
	if [ "$bad" -gt 0 ]; then
		log "user $user: $n key(s) from $file, $bad line(s) skipped"
	else
		log "user $user: $n key(s) from $file"
	fi
}

install_keys() {
	local block user uid home rest lineno=0 users=0
	if [ ! -f "$users_file" ]; then
		log "no users file $users_file: no keys authorized (give --users FILE)"
	fi
	block=$work/authkeys.block
	: >"$block"
	if [ -f "$users_file" ]; then
		while IFS=, read -r user uid home rest || [ -n "$user" ]; do
			lineno=$((lineno + 1))
			user=${user//[[:space:]]/}
			uid=${uid//[[:space:]]/}
			case $user in '' | '#'*) continue ;; esac
			if ! [[ $user =~ ^[a-z_][a-z0-9_.-]*$ ]] || ! [[ $uid =~ ^[0-9]+$ ]] || [ -n "${rest:-}" ]; then
				log "ERROR: $users_file:$lineno: expected user,uid,home (e.g. user1,2001,/fsx/user1); line skipped"
				continue
			fi
			users=$((users + 1))
			if [ ! -f "$keys_dir/$user.pub" ]; then
				log "user $user: no $keys_dir/$user.pub; no key authorized for $user"
				continue
			fi
			printf '# %s (uid %s, home %s)\n' "$user" "$uid" "$(echo "$home" | tr -d '[:space:]')" >>"$block"
			# Dedupe: the same key listed twice is one line.
			user_keys "$user" "$keys_dir/$user.pub" | awk '!seen[$0]++' >>"$block"
		done <"$users_file"
	fi
	# A key file for someone not in the users file is not authorized: say so.
	if [ -f "$users_file" ] && [ -d "$keys_dir" ]; then
		local f name
		for f in "$keys_dir"/*.pub; do
			[ -e "$f" ] || continue
			name=$(basename "$f" .pub)
			awk -F, -v n="$name" '{ gsub(/[[:space:]]/, "", $1) } $1 == n { f = 1 } END { exit !f }' "$users_file" ||
				log "$f: $name is not in $users_file; its keys are not authorized"
		done
	fi

	install -d -m 0755 /etc/porthole
	local new=$work/authorized_keys
	with_block "$authkeys" "$block" >"$new"
	if replace_if_changed "$new" "$authkeys" 0600; then
		log "wrote $authkeys ($users user(s) listed)"
	else
		log "$authkeys is up to date"
	fi
}

# ---- 3. the conf file --------------------------------------------------------

configure() {
	local block=$work/conf.block new=$work/porthole.conf
	echo "PORTHOLE_SSH_PORT=$port" >"$block"
	install -d -m 0755 /etc/porthole
	# Another PORTHOLE_SSH_PORT line outside the block would be ambiguous:
	# comment it out, saying so.
	with_block "$conf" "$block" | awk -v b="$begin_mark" -v e="$end_mark" '
		$0 == b { inblock = 1 }
		$0 == e { inblock = 0 }
		!inblock && /^[[:space:]]*PORTHOLE_SSH_PORT[[:space:]]*=/ { print "# (install_porthole.sh) " $0; next }
		{ print }' >"$new"
	if replace_if_changed "$new" "$conf" 0644; then
		changed=1
		log "wrote $conf: PORTHOLE_SSH_PORT=$port"
	else
		log "$conf is up to date (PORTHOLE_SSH_PORT=$port)"
	fi
}

# ---- 4. the service ----------------------------------------------------------

unit_file() {
	local d
	for d in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
		[ -f "$d/porthole.service" ] && { echo "$d/porthole.service"; return 0; }
	done
	return 1
}

# this_run — set run_filter to journalctl's arguments for the lines of the
# service's current (or last) run: after a restart the journal still holds
# the previous run's.
this_run() {
	local inv
	inv=$(systemctl show -p InvocationID --value porthole.service 2>/dev/null || true)
	if [ -n "$inv" ]; then
		run_filter=("_SYSTEMD_INVOCATION_ID=$inv")
	else
		run_filter=(-u porthole.service -n 50)
	fi
}

# service_failed MESSAGE — the service did not come up: its own last lines
# (why) into the log, then fail.
service_failed() {
	this_run
	journalctl "${run_filter[@]}" --no-pager -o cat 2>/dev/null | tail -n 15 |
		while IFS= read -r l; do log "$l"; done || true
	die "$1"
}

# ready_line — the running service's ready record line (cluster, instance,
# address, port, host key) into the log.  journald stores a service's output
# a moment after the service wrote it, so wait a little for it.
ready_line() {
	local line='' i
	this_run
	for i in 1 2 3 4 5 6 7 8 9 10; do
		line=$(journalctl "${run_filter[@]}" --no-pager -o cat 2>/dev/null | grep ' ready: ' | tail -n 1 || true)
		[ -z "$line" ] || break
		[ "$i" = 10 ] || sleep 0.5
	done
	if [ -n "$line" ]; then
		log "$line"
	else
		log "no ready line from porthole.service in the journal yet: journalctl -u porthole"
	fi
}

enable_service() {
	local unit link=/etc/systemd/system/multi-user.target.wants/porthole.service
	unit=$(unit_file) || die "porthole.service is not installed (is the package complete?)"
	# The resource_config.json path on_create.sh was given, for the service.
	local dropin=/etc/systemd/system/porthole.service.d/hyperpod.conf
	if [ -n "${SAGEMAKER_RESOURCE_CONFIG_PATH:-}" ] &&
		[ "$SAGEMAKER_RESOURCE_CONFIG_PATH" != /opt/ml/config/resource_config.json ]; then
		local new=$work/hyperpod.conf
		printf '# install_porthole.sh: where SageMaker put this node'"'"'s resource_config.json\n[Service]\nEnvironment=SAGEMAKER_RESOURCE_CONFIG_PATH=%s\n' \
			"$SAGEMAKER_RESOURCE_CONFIG_PATH" >"$new"
		install -d -m 0755 "$(dirname "$dropin")"
		if replace_if_changed "$new" "$dropin" 0644; then
			changed=1
			unit_changed=1
			log "wrote $dropin"
		fi
	fi

	if command -v systemctl >/dev/null 2>&1; then
		if [ "$(systemctl is-enabled porthole.service 2>/dev/null || true)" = enabled ]; then
			log "porthole.service is enabled already"
		else
			# Works offline too (in a chroot, systemctl only makes the links).
			systemctl enable porthole.service >>"$log_file" 2>&1 || die "systemctl enable porthole.service failed"
			log "enabled porthole.service"
		fi
	elif [ -L "$link" ]; then
		log "porthole.service is enabled already"
	else
		# No systemctl (a bare image): the link `systemctl enable` would make.
		install -d -m 0755 "$(dirname "$link")"
		ln -s "$unit" "$link"
		log "enabled porthole.service (linked $link)"
	fi

	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		if [ "$unit_changed" = 1 ]; then
			systemctl daemon-reload || die "systemctl daemon-reload failed"
		fi
		if [ "$changed" = 1 ] && systemctl is-active --quiet porthole.service; then
			systemctl restart porthole.service || service_failed "porthole.service did not restart: journalctl -u porthole"
			log "restarted porthole.service for the new package or settings"
		elif ! systemctl is-active --quiet porthole.service; then
			systemctl start porthole.service || service_failed "porthole.service did not start: journalctl -u porthole"
			log "started porthole.service"
		else
			log "porthole.service is running"
		fi
		ready_line
	else
		log "systemd is not running here (image build or chroot): porthole.service starts at boot"
	fi
}

# Whether the running service must restart (package, conf or unit changed)
# and whether systemd must reload the unit.
changed=0
unit_changed=0
run_filter=()
log "install_porthole.sh: package ${package:-(next to the script)}, users $users_file, keys $keys_dir, port $port"
install_package
install_keys
configure
enable_service
log "porthole is set up: ssh -p $port root@<node address> with a listed user's key (porthole hosts <cluster> finds the address)"
