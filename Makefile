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
#   make deb | rpm    packages in build/pkg/ (make dist-check builds and tests them; make static explains)

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PYTHON  ?= /usr/bin/python3
PKGS    := libssh libcurl libcjson libsystemd

# Debian packages needed to build, test, demo and bench.
DEB_BUILD := build-essential pkg-config libssh-dev libcurl4-openssl-dev libcjson-dev libsystemd-dev
DEB_TEST  := libcmocka-dev python3 python3-pytest python3-botocore awscli openssh-client iproute2 \
             util-linux procps valgrind shellcheck openssh-sftp-server debootstrap pdsh python3-paramiko
# make fuzz: libFuzzer comes with clang's compiler-rt.
DEB_FUZZ  := clang libclang-rt-14-dev
DEB_BENCH := openssh-server dropbear-bin
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
	$(if $(filter 1,$(SAN)),,$(MAKE) dist-check)

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

static:
	@packaging/static.sh

# The shipped artefacts, tested as built (not against the SAN build): the
# packages (make deb rpm, once) and their contents; the HyperPod lifecycle
# script installing the .deb in a debootstrap chroot; the Dockerfiles linted,
# built with podman from a debootstrap base and run as PID 1.
dist-check: lint-dockerfiles
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/packaging tests/hyperpod tests/images

# Static dependencies for `make static` (issue 12): make static-deps, make deps-static.
include packaging/static/deps.mk
