# SPDX-License-Identifier: Apache-2.0
# porthole — top-level build.
#   make              build agent/porthole
#   make deps         install the Debian build and test packages (as root) or print the apt-get line
#   make check        unit tests (cmocka) + integration tests (pytest, real binary)
#   make check SAN=1  the same, built with ASan + UBSan (without dist-check)
#   make dist-check   what ships: the packages (tests/packaging), the HyperPod lifecycle script in a
#                     chroot, the Dockerfiles built with podman and run (make check runs it without SAN)
#   make valgrind     the unit tests and a run of the wrapper under valgrind
#   make demo         a simulated 2-host training job under porthole
#   make bench        figures (not tests)
#   make fuzz         every libFuzzer harness (tests/fuzz/) for FUZZ_SECONDS each, under ASan+UBSan
#   make docs         docs/configuration.md from the binary's settings table (commit the result)
#   make lint-dockerfiles  hadolint-style checks + shellcheck on dockerfiles/*/Dockerfile
#   make image-size   what porthole adds to an image, against openssh-server (bench section)
#   make install DESTDIR= PREFIX=
#   make deb | rpm    packages in build/pkg/ (make dist-check builds and tests them)
#   make static       build/static/porthole: one static-pie file for any x86_64 image (docs/packaging.md)
#   make static-check that file as PID 1 in bullseye, bookworm, trixie and busybox-only roots (make check runs it)

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PYTHON  ?= /usr/bin/python3
PKGS    := libssh libcurl libcjson libsystemd

# Debian packages needed to build, test, demo and bench.
DEB_BUILD := build-essential pkg-config libssh-dev libcurl4-openssl-dev libcjson-dev libsystemd-dev
DEB_TEST  := libcmocka-dev python3 python3-pytest python3-botocore awscli openssh-client iproute2 \
             python3-paramiko python3-asyncssh git \
             util-linux procps valgrind shellcheck openssh-sftp-server debootstrap pdsh dnsmasq-base openssl
# make fuzz: libFuzzer comes with clang's compiler-rt.
DEB_FUZZ  := clang libclang-rt-14-dev
DEB_BENCH := openssh-server dropbear-bin tini dumb-init
# Images (make dist-check, make image-size): podman builds from a debootstrap base.
DEB_IMAGES := podman debootstrap
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST) $(DEB_BENCH) $(DEB_IMAGES) $(DEB_FUZZ)

ifeq ($(SAN),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   := build/std
SANFLAGS :=
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
# -MMD -MP: each object depends on exactly the headers it includes, so a
# header change rebuilds only what uses it.
ALL_CFLAGS  = -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_ALL  = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# agent/ is in folders by area (docs/ARCHITECTURE.md); every .c is a module.
AGENT_SRC := $(sort $(wildcard agent/*.c agent/*/*.c))
AGENT_OBJ := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRC))

# Static dependencies, pinned Debian versions, cached: make static-deps.
# Included before any rule names $(ST), which it defines.
.DEFAULT_GOAL := all
# Optional: the Dockerfiles copy only what the dynamic build needs.
-include packaging/static/deps.mk

.PHONY: all deps check unit integration dist-check lint-dockerfiles image-size valgrind demo bench install clean layout-check
all: agent/porthole

$(BUILD)/porthole: $(AGENT_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

ifeq ($(SAN),1)
agent/porthole: $(BUILD)/porthole
else
agent/porthole: $(BUILD)/porthole
	install -m 0755 $< $@
endif

$(BUILD)/agent/%.o: agent/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The unit tests are not in the RPM source tarball.
-include tests/unit/unit.mk
-include tests/fuzz/fuzz.mk

-include $(AGENT_OBJ:.o=.d) $(UNIT_OBJ:.o=.d)

deps:
	@missing=$$(for p in $(DEB_ALL); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing" $$missing; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
		echo "deps: missing packages; run as root:"; \
		echo "  apt-get update && apt-get install -y --no-install-recommends" $$missing; exit 1; \
	fi
	@# The static build's packages and the deb-src entry its source packages need.
	@$(MAKE) --no-print-directory deps-static

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The seams of agent/ (docs/ARCHITECTURE.md, "Area interfaces"): includes
# across areas, header changes rebuilding only dependents, unit test links.
layout-check: $(BUILD)/porthole $(UNIT_BIN)
	$(PYTHON) tests/layout/layout_check.py $(BUILD)

integration: $(BUILD)/porthole
	PORTHOLE_BIN=$(abspath $(BUILD)/porthole) PORTHOLE_SAN=$(SAN) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration $(wildcard tests/lifecycle) $(wildcard tests/awsstandin/test_*.py)

check: deps
	$(MAKE) unit layout-check integration
	$(if $(filter 1,$(SAN)),,$(MAKE) dist-check static-check)

lint-dockerfiles:
	$(PYTHON) tests/images/lint_dockerfiles.py

image-size:
	$(PYTHON) bench/image_size.py

valgrind: $(UNIT_BIN) $(BUILD)/porthole
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite $$t; done
	PORTHOLE_BIN=$(abspath $(BUILD)/porthole) tests/valgrind.sh

demo: deps
	$(MAKE) $(BUILD)/porthole
	PORTHOLE_BIN=$(abspath $(BUILD)/porthole) $(PYTHON) tests/demo.py

bench: $(BUILD)/porthole
	PORTHOLE_BIN=$(abspath $(BUILD)/porthole) $(PYTHON) bench/bench.py

install: agent/porthole
	install -D -m 0755 agent/porthole $(DESTDIR)$(PREFIX)/bin/porthole
	install -D -m 0644 lifecycle/porthole.sh $(DESTDIR)$(PREFIX)/share/porthole/porthole.sh

clean:
	rm -rf build agent/porthole

# ---- packaging (packaging/, tests/packaging; docs/packaging.md) -----------
# install-dist: everything a package holds (binary, porthole.sh, man page,
# conf, units, docs) under DESTDIR; the deb and the RPM spec both use it.
VERSION    := $(shell sed -n 's/^\#define PORTHOLE_VERSION "\(.*\)"/\1/p' agent/lib/version.h)
PKG        := build/pkg
DIST_BIN   ?= agent/porthole
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DEB_PKG    := dpkg-dev lintian rpm rpm2cpio rpmlint man-db groff-base systemd
DEB_ALL    += $(DEB_PKG)
.PHONY: install-dist deb rpm static dist-check docs

$(PKG)/gen/porthole.8 $(PKG)/gen/porthole.conf: $(DIST_BIN) packaging/gendoc.sh packaging/porthole.8.in packaging/configuration.md.in
	packaging/gendoc.sh $(DIST_BIN) $(PKG)/gen

# docs/configuration.md comes from the same script and the binary's settings
# table (packaging/configuration.md.in holds the prose). It is committed so
# that it reads on GitHub; tests/packaging fails when it is out of date.
docs: $(BUILD)/porthole
	packaging/gendoc.sh $(BUILD)/porthole build/docs
	cp build/docs/configuration.md docs/configuration.md

install-dist: $(DIST_BIN) $(PKG)/gen/porthole.8
	install -D -m 0755 $(DIST_BIN) $(DESTDIR)$(PREFIX)/bin/porthole
	install -D -m 0644 lifecycle/porthole.sh $(DESTDIR)$(PREFIX)/share/porthole/porthole.sh
	install -D -m 0644 $(PKG)/gen/porthole.8 $(DESTDIR)$(MANDIR)/man8/porthole.8
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/share/doc/porthole/docs
	sed 's|/usr/|$(PREFIX)/|g' packaging/systemd/porthole.service >$(DESTDIR)$(UNITDIR)/porthole.service
	install -m 0644 packaging/systemd/porthole.socket $(DESTDIR)$(UNITDIR)/
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/porthole/
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/porthole/docs/
	@# never overwrite a conf file someone edited
	[ -e $(DESTDIR)/etc/porthole/porthole.conf ] || install -D -m 0644 $(PKG)/gen/porthole.conf $(DESTDIR)/etc/porthole/porthole.conf

deb:
	packaging/deb/build-deb.sh $(VERSION) $(PKG)

rpm:
	packaging/rpm/build-rpm.sh $(VERSION) $(PKG)

# The shipped artefacts, tested as built (not against the SAN build): the
# packages (make deb rpm, once) and their contents; the HyperPod lifecycle
# script installing the .deb in a debootstrap chroot; the Dockerfiles linted,
# built with podman from a debootstrap base and run as PID 1.
dist-check: lint-dockerfiles $(ST)/porthole
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/packaging tests/hyperpod tests/images

# ---- the static binary (docs/ARCHITECTURE.md, "Static build") -------------
# The same sources, compiled -DPORTHOLE_STATIC (libssh and libcurl linked in
# instead of dlopen()ed, NSS kept to glibc's built-in files and dns) against
# build/static/prefix, linked -static-pie; Debian's CA bundle is built in
# for images that have none.
ST_AGENT_OBJ := $(patsubst agent/%.c,$(ST)/obj-agent/%.o,$(AGENT_SRC))
# -Os and no unwind tables for porthole's own code: it is the copying file,
# and its time goes to OpenSSL's assembly and the kernel, not to this code
# (make bench compares throughput); every byte counts against the 6 MiB goal.
ST_AGENT_CFLAGS = -std=gnu11 $(WARN) -Os -g -fPIE -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -D_GNU_SOURCE \
	-DPORTHOLE_STATIC -MMD -MP -I$(ST_PREFIX)/include -ffile-prefix-map=$(CURDIR)/=
.PHONY: static static-check

static: $(ST)/porthole

$(ST)/obj-agent/%.o: agent/%.c Makefile $(ST_STAMP)/prefix
	@mkdir -p $(dir $@)
	$(ST_CC) $(ST_AGENT_CFLAGS) -c -o $@ $<

# Debian's CA bundle, gzip'd (aws/cabundle.c inflates it when an image has
# none of its own); .incbin keeps the bytes out of any source file.
$(ST)/obj-agent/cabundle-data.o: $(ST_STAMP)/prefix
	@mkdir -p $(dir $@)
	gzip -9 -n -c $(ST_PREFIX)/share/ca-bundle.crt >$(ST)/ca-bundle.crt.gz
	printf '\t.section .rodata\n\t.global cabundle_gz\n\t.global cabundle_gz_end\ncabundle_gz:\n\t.incbin "%s"\ncabundle_gz_end:\n\t.section .note.GNU-stack,"",@progbits\n' \
		'$(ST)/ca-bundle.crt.gz' | $(ST_CC) -c -x assembler -o $@ -

# --no-eh-frame-hdr: the lookup table only speeds up unwinding, which this C
# program never does (gdb reads porthole.debug).
$(ST)/porthole: $(ST_AGENT_OBJ) $(ST)/obj-agent/cabundle-data.o
	$(ST_CC) -o $@.debug $^ -L$(ST_PREFIX)/lib $(ST_LDLIBS) $(ST_LDFLAGS) -Wl,--no-eh-frame-hdr 2>$@.link.log || { cat $@.link.log; exit 1; }
	@sed -n "s/.*warning: Using '\([^']*\)'.*/static: link warning: \1 (porthole keeps NSS to files and dns; see ARCHITECTURE)/p" $@.link.log
	strip -o $@ $@.debug
	@# dockerfiles/static builds with this directory as its context: only the binary goes.
	printf '*\n!porthole\n' >$(ST)/.dockerignore

-include $(ST_AGENT_OBJ:.o=.d)

# The acceptance tests of the static binary (tests/static/README.md), then
# the integration tests of the features tests/static does not cover (S3
# keys, the user side, SSM, systemd, every kind of forward) with it.
STATIC_INTEGRATION := test_s3keys.py test_hosts.py test_ssm.py test_systemd.py test_ssh_forward.py
static-check: $(ST)/porthole
	PORTHOLE_STATIC_BIN=$(abspath $(ST)/porthole) $(PYTHON) -m pytest -q -p no:cacheprovider tests/static
	PORTHOLE_BIN=$(abspath $(ST)/porthole) $(PYTHON) -m pytest -q -p no:cacheprovider $(addprefix tests/integration/,$(STATIC_INTEGRATION))
