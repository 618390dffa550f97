# SPDX-License-Identifier: Apache-2.0
# packaging/static/deps.mk — porthole's dependencies as static archives, for
# `make static` (issue 12). Included by the top-level Makefile.
#
#   make static-deps    ->  build/static/prefix/{include,lib,share}
#
# Every byte comes from Debian's archive, pinned by Debian version below:
# Debian's own .a files where they link statically (apt-get download), Debian
# source packages built here where they do not (apt-get source, with Debian's
# patches applied). Nothing is copied into the repository; all of it lives
# under build/static/ (src/ unpacked sources, obj/ build trees, deb/ unpacked
# binary packages, stamp/). Stamps make a second run do nothing; a changed pin
# fetches and rebuilds that component, changed options rebuild it.
# Needs the packages in DEB_STATIC and a deb-src entry
# (packaging/static/add-deb-src.sh). deb.debian.org serves only the current
# version of each package in each suite: when Debian updates one, the
# download fails and the pin must move.
# Everything is compiled -O2 -fPIC (for -static-pie) with Debian's hardening
# flags, -ffunction-sections -fdata-sections so the final link can use
# --gc-sections, and -ffile-prefix-map so no build path lands in the binary.

# ---- pins: the Debian version of everything used ---------------------------
# source packages, built here
ST_SYSTEMD_VER    := 252.39-1~deb12u2
ST_CURL_VER       := 7.88.1-10+deb12u15
ST_CJSON_VER      := 1.7.15-1+deb12u4
ST_LIBSSH_SRC_VER := 0.10.6-0+deb12u2
# binary packages whose .a files and headers are used as Debian built them
ST_LIBSSL_DEV_VER := 3.0.22-1~deb12u2
ST_LIBSSH_DEV_VER := 0.10.6-0+deb12u3
ST_CARES_DEV_VER  := 1.18.1-3
ST_ZLIB_DEV_VER   := 1:1.2.13.dfsg-1+deb12u1
ST_KRB5_DEV_VER   := 1.20.1-2+deb12u5
ST_CACERTS_VER    := 20250419~deb12u2

# libssh: "deb" = Debian's libssh.a (libssh-dev, carries the deb12u3 security
# fixes) plus packaging/static/gssapi-stub.c, because Debian builds it with
# GSSAPI and ships no static krb5; "src" = Debian's libssh source built with
# GSSAPI off. The default is "deb" because the mirror serves the source only
# at ST_LIBSSH_SRC_VER, which lacks the fixes of ST_LIBSSH_DEV_VER.
ST_LIBSSH ?= deb

# Debian packages the static build needs on the build machine (make deps).
DEB_STATIC := dpkg-dev build-essential meson ninja-build gperf python3-jinja2 \
	libcap-dev libmount-dev cmake pkg-config file strace busybox-static openssl

# ---- layout and flags ------------------------------------------------------
ST        := $(CURDIR)/build/static
ST_SRC    := $(ST)/src
ST_OBJ    := $(ST)/obj
ST_DEB    := $(ST)/deb
ST_STAMP  := $(ST)/stamp
ST_PREFIX := $(ST)/prefix
ST_MA     := x86_64-linux-gnu
ST_JOBS   ?= 2
# a sub-make under `make -jN` shares its jobserver; otherwise it gets -j$(ST_JOBS)
ST_SUBJOBS = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(ST_JOBS))
ST_CC     := gcc
ST_CFLAGS := -O2 -fPIC -ffunction-sections -fdata-sections -fstack-protector-strong -ffile-prefix-map=$(ST)/= \
	-Wformat -Werror=format-security
# libsystemd, libcurl and cJSON are not on a hot path (the loop's wake-ups,
# a PutLogEvents now and then, small JSON): built for size, for the 6 MiB
# goal, and without unwind tables, which this C never uses.
ST_CFLAGS_SIZE := $(subst -O2,-Os,$(ST_CFLAGS)) -fno-asynchronous-unwind-tables
ST_CPPFLAGS := -D_FORTIFY_SOURCE=2
# the upstream version, which names the directory apt-get source unpacks to
ST_UP = $(firstword $(subst -, ,$(1)))
ST_APT := apt-get -q -o APT::Sandbox::User=root

ST_LIBS := libsystemd.a libcurl.a libcjson.a libssh.a libssl.a libcrypto.a libcares.a libz.a \
	$(if $(filter deb,$(ST_LIBSSH)),libgssapi_stub.a)

# Each build stamp depends on stamp/NAME.opts, which holds that component's
# pins and options and is rewritten only when they change.
ST_OPTS_debs    = $(ST_DEBS) $(ST_MA)
ST_OPTS_libssh  = $(ST_LIBSSH) $(ST_CC) $(ST_CFLAGS) $(ST_CPPFLAGS) $(ST_LIBSSH_CMAKE)
ST_OPTS_cjson   = $(ST_CC) $(ST_CFLAGS_SIZE) $(ST_CPPFLAGS)
ST_OPTS_systemd = $(ST_CC) $(ST_SYSTEMD_MESON)
ST_OPTS_curl    = $(ST_CC) $(ST_CFLAGS_SIZE) $(ST_CPPFLAGS) $(ST_CURL_CONF)
.PHONY: st-force
$(ST_STAMP)/%.opts: st-force
	@mkdir -p $(@D); printf '%s\n' '$(ST_OPTS_$*)' | cmp -s - $@ || printf '%s\n' '$(ST_OPTS_$*)' >$@

.PHONY: static-deps static-deps-clean deps-static
static-deps: $(ST_STAMP)/prefix

# What `make deps` should also do for the static build: install DEB_STATIC and
# give apt a deb-src entry (as root; otherwise print what to run).
deps-static:
	@missing=$$(for p in $(DEB_STATIC); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ "$$(id -u)" != 0 ]; then \
		[ -z "$$missing" ] && apt-get indextargets --format '$$(CREATED_BY)' | grep -qx Sources && exit 0; \
		[ -z "$$missing" ] || echo "deps-static: missing packages; as root: apt-get install -y --no-install-recommends" $$missing; \
		echo "deps-static: as root, also: packaging/static/add-deb-src.sh"; exit 1; \
	fi; \
	packaging/static/add-deb-src.sh; \
	[ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing

static-deps-clean:
	rm -rf $(ST)/src $(ST)/obj $(ST)/deb $(ST)/stamp $(ST)/prefix

# ---- Debian's binary packages: OpenSSL, c-ares, zlib, libssh, CA bundle ----
# OpenSSL's .a keeps its assembly (aesni_*, sha*_block_data_order); c-ares and
# zlib are plain .a; all of them carry no non-PIC relocation (Debian's gcc
# defaults to PIE). The CA bundle is the Mozilla set of ca-certificates
# concatenated as update-ca-certificates does, not the build machine's
# /etc/ssl/certs/ca-certificates.crt, which may hold local CAs.
ST_DEBS := libssl-dev=$(ST_LIBSSL_DEV_VER) libc-ares-dev=$(ST_CARES_DEV_VER) \
	zlib1g-dev=$(ST_ZLIB_DEV_VER) ca-certificates=$(ST_CACERTS_VER) \
	$(if $(filter deb,$(ST_LIBSSH)),libssh-dev=$(ST_LIBSSH_DEV_VER) krb5-multidev=$(ST_KRB5_DEV_VER))

$(ST_STAMP)/debs: $(ST_STAMP)/debs.opts
	rm -rf $(ST_DEB) && mkdir -p $(ST_DEB)/root $(ST_PREFIX)/include $(ST_PREFIX)/lib $(ST_PREFIX)/share
	cd $(ST_DEB) && $(ST_APT) download $(ST_DEBS)
	for f in $(ST_DEB)/*.deb; do dpkg-deb -x "$$f" $(ST_DEB)/root || exit 1; done
	cd $(ST_DEB)/root/usr && \
	rm -rf $(ST_PREFIX)/include/openssl && cp -R include/openssl $(ST_PREFIX)/include/ && \
	cp include/$(ST_MA)/openssl/*.h $(ST_PREFIX)/include/openssl/ && \
	cp include/ares.h include/ares_build.h include/ares_dns.h include/ares_rules.h include/ares_version.h \
		include/zlib.h include/zconf.h $(ST_PREFIX)/include/ && \
	cp lib/$(ST_MA)/libssl.a lib/$(ST_MA)/libcrypto.a lib/$(ST_MA)/libcares.a lib/$(ST_MA)/libz.a $(ST_PREFIX)/lib/
	find $(ST_DEB)/root/usr/share/ca-certificates/mozilla -name '*.crt' | LC_ALL=C sort | \
		xargs cat >$(ST_PREFIX)/share/ca-bundle.crt
	@mkdir -p $(@D) && touch $@

# ---- libssh ----------------------------------------------------------------
ifeq ($(ST_LIBSSH),deb)
$(ST_STAMP)/libssh: $(ST_STAMP)/debs packaging/static/gssapi-stub.c $(ST_STAMP)/libssh.opts
	rm -rf $(ST_PREFIX)/include/libssh && cp -R $(ST_DEB)/root/usr/include/libssh $(ST_PREFIX)/include/
	cp $(ST_DEB)/root/usr/lib/$(ST_MA)/libssh.a $(ST_PREFIX)/lib/
	mkdir -p $(ST_OBJ)/gssapi-stub
	$(ST_CC) $(ST_CFLAGS) $(ST_CPPFLAGS) -I$(ST_DEB)/root/usr/include/mit-krb5 \
		-c packaging/static/gssapi-stub.c -o $(ST_OBJ)/gssapi-stub/gssapi-stub.o
	rm -f $(ST_PREFIX)/lib/libgssapi_stub.a && ar rcs $(ST_PREFIX)/lib/libgssapi_stub.a $(ST_OBJ)/gssapi-stub/gssapi-stub.o
	touch $@
else
# Server, SFTP and zlib compression (clients may ask for it, as with Debian's
# build) on OpenSSL; off: GSSAPI (no static krb5), pcap dumps, examples, NaCl
# (OpenSSL has curve25519), symbol versioning (meaningless in a .a).
ST_LIBSSH_CMAKE := -DCMAKE_BUILD_TYPE=None -DCMAKE_C_COMPILER=$(ST_CC) \
	-DCMAKE_C_FLAGS="$(ST_CFLAGS) $(ST_CPPFLAGS)" -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
	-DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIB=OFF -DWITH_GSSAPI=OFF -DWITH_ZLIB=ON \
	-DWITH_SERVER=ON -DWITH_SFTP=ON -DWITH_GEX=ON -DWITH_PCAP=OFF -DWITH_EXAMPLES=OFF \
	-DWITH_NACL=OFF -DWITH_SYMBOL_VERSIONING=OFF -DUNIT_TESTING=OFF -DCLIENT_TESTING=OFF \
	-DSERVER_TESTING=OFF -DWITH_PKCS11_URI=OFF -DWITH_GCRYPT=OFF -DWITH_MBEDTLS=OFF \
	-DOPENSSL_ROOT_DIR=$(ST_PREFIX) -DOPENSSL_USE_STATIC_LIBS=ON -DZLIB_ROOT=$(ST_PREFIX) \
	-DCMAKE_FIND_LIBRARY_SUFFIXES=.a
ST_LIBSSH_DIR := $(ST_SRC)/libssh-$(call ST_UP,$(ST_LIBSSH_SRC_VER))

$(ST_STAMP)/src-libssh-$(ST_LIBSSH_SRC_VER):
	mkdir -p $(ST_SRC) $(@D) && rm -rf $(ST_LIBSSH_DIR)
	cd $(ST_SRC) && $(ST_APT) source --only-source libssh=$(ST_LIBSSH_SRC_VER)
	touch $@

$(ST_STAMP)/libssh: $(ST_STAMP)/src-libssh-$(ST_LIBSSH_SRC_VER) $(ST_STAMP)/debs $(ST_STAMP)/libssh.opts | $(ST_STAMP)/curl
	rm -rf $(ST_OBJ)/libssh && mkdir -p $(ST_OBJ)/libssh
	cd $(ST_OBJ)/libssh && cmake -G Ninja $(ST_LIBSSH_CMAKE) $(ST_LIBSSH_DIR) >cmake.log
	ninja -C $(ST_OBJ)/libssh -j$(ST_JOBS) ssh
	rm -rf $(ST_PREFIX)/include/libssh && mkdir -p $(ST_PREFIX)/include/libssh
	cp $(ST_LIBSSH_DIR)/include/libssh/*.h $(ST_OBJ)/libssh/include/libssh/libssh_version.h $(ST_PREFIX)/include/libssh/
	cp $(ST_OBJ)/libssh/src/libssh.a $(ST_PREFIX)/lib/
	rm -f $(ST_PREFIX)/lib/libgssapi_stub.a
	touch $@
endif

# ---- cJSON: one C file; compiled directly (upstream's CMake adds nothing a
# static archive needs) ------------------------------------------------------
ST_CJSON_DIR := $(ST_SRC)/cjson-$(call ST_UP,$(ST_CJSON_VER))

$(ST_STAMP)/src-cjson-$(ST_CJSON_VER):
	mkdir -p $(ST_SRC) $(@D) && rm -rf $(ST_CJSON_DIR)
	cd $(ST_SRC) && $(ST_APT) source --only-source cjson=$(ST_CJSON_VER)
	touch $@

$(ST_STAMP)/cjson: $(ST_STAMP)/src-cjson-$(ST_CJSON_VER) $(ST_STAMP)/cjson.opts
	mkdir -p $(ST_OBJ)/cjson $(ST_PREFIX)/include/cjson $(ST_PREFIX)/lib
	$(ST_CC) -std=c89 $(ST_CFLAGS_SIZE) $(ST_CPPFLAGS) -c $(ST_CJSON_DIR)/cJSON.c -o $(ST_OBJ)/cjson/cJSON.o
	rm -f $(ST_PREFIX)/lib/libcjson.a && ar rcs $(ST_PREFIX)/lib/libcjson.a $(ST_OBJ)/cjson/cJSON.o
	cp $(ST_CJSON_DIR)/cJSON.h $(ST_PREFIX)/include/cjson/
	touch $@

# ---- libsystemd.a from systemd's source ------------------------------------
# Only the libsystemd.a target is built (it needs the generated version.h
# first). static-libsystemd=pic for static-pie. Every optional feature off,
# so libsystemd links against nothing but libc: no journal compression (porthole
# only writes to the journal), no gcrypt/openssl, no SELinux/ACL/PAM/...; the
# build's required libcap/libmount are found but unused by what porthole pulls.
ST_SYSTEMD_DIR := $(ST_SRC)/systemd-$(call ST_UP,$(ST_SYSTEMD_VER))
ST_SYSTEMD_OFF := xz lz4 zstd zlib bzip2 gcrypt gnutls openssl p11kit libfido2 tpm2 \
	elfutils seccomp selinux apparmor polkit acl audit blkid fdisk kmod pam pwquality \
	microhttpd libcryptsetup libcryptsetup-plugins libcurl libidn2 libidn libiptc qrencode \
	xkbcommon pcre2 glib dbus gnu-efi smack ima efi tpm homed repart sysupdate remote \
	importd nss-mymachines nss-resolve nss-myhostname nss-systemd man html translations \
	tests fuzz-tests install-tests bpf-framework static-libudev
ST_SYSTEMD_MESON := --buildtype=plain -Doptimization=s -Ddebug=false -Db_staticpic=true \
	-Dmode=release -Dstatic-libsystemd=pic $(foreach o,$(ST_SYSTEMD_OFF),-D$(o)=false) \
	-Dc_args="$(ST_CFLAGS_SIZE) $(ST_CPPFLAGS)"

$(ST_STAMP)/src-systemd-$(ST_SYSTEMD_VER):
	mkdir -p $(ST_SRC) $(@D) && rm -rf $(ST_SYSTEMD_DIR)
	cd $(ST_SRC) && $(ST_APT) source --only-source systemd=$(ST_SYSTEMD_VER)
	touch $@

# One component at a time (order-only chain): each sub-build runs -j$(ST_JOBS).
$(ST_STAMP)/systemd: $(ST_STAMP)/src-systemd-$(ST_SYSTEMD_VER) $(ST_STAMP)/systemd.opts | $(ST_STAMP)/cjson
	rm -rf $(ST_OBJ)/systemd && mkdir -p $(ST_OBJ)
	CC=$(ST_CC) meson setup $(ST_SYSTEMD_MESON) $(ST_OBJ)/systemd $(ST_SYSTEMD_DIR) >$(ST_OBJ)/systemd.setup.log
	ninja -C $(ST_OBJ)/systemd -j$(ST_JOBS) version.h
	ninja -C $(ST_OBJ)/systemd -j$(ST_JOBS) libsystemd.a
	cp $(ST_OBJ)/systemd/libsystemd.a $(ST_PREFIX)/lib/
	rm -rf $(ST_PREFIX)/include/systemd && mkdir -p $(ST_PREFIX)/include/systemd
	cd $(ST_SYSTEMD_DIR)/src/systemd && \
		cp _sd-common.h sd-daemon.h sd-event.h sd-id128.h sd-journal.h $(ST_PREFIX)/include/systemd/
	touch $@

# ---- libcurl.a from curl's source ------------------------------------------
# Debian's libcurl.a needs GSSAPI, LDAP, RTMP, libssh2, nghttp2, idn2, psl,
# brotli, zstd. Here: HTTP and HTTPS only, OpenSSL, c-ares as the resolver (no
# getaddrinfo, so no NSS in a static glibc binary), zlib; SigV4 stays (it
# needs crypto-auth). No built-in CA path: porthole always sets CAINFO itself
# (an image's bundle, else the embedded one), never the build machine's path.
# OpenSSL must not read openssl.cnf at init (an image's config could ask for a
# provider module that a static binary cannot load). Features porthole does
# not use are off: cookies, mime, alt-svc, hsts, doh, netrc, ntlm, tls-srp...
# Debian's openssl flavour is its source with the last two patches (NSS,
# GnuTLS renames) popped; we do the same. Upstream's shipped configure is
# used (maintainer mode is off, so Debian's Makefile.am edits do not matter).
ST_CURL_DIR := $(ST_SRC)/curl-$(call ST_UP,$(ST_CURL_VER))
ST_CURL_CONF := --disable-shared --enable-static --with-pic --disable-dependency-tracking \
	--disable-debug --disable-curldebug --disable-warnings --disable-werror \
	--enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp \
	--disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb \
	--disable-smtp --disable-gopher --disable-mqtt --disable-websockets \
	--enable-proxy --enable-crypto-auth --enable-http-auth --disable-ntlm --disable-ntlm-wb \
	--disable-tls-srp --disable-sspi \
	--disable-cookies --disable-mime --disable-alt-svc --disable-hsts --disable-doh \
	--disable-netrc --disable-get-easy-options --disable-headers-api \
	--disable-manual --disable-libcurl-option --disable-progress-meter \
	--with-openssl=$(ST_PREFIX) --disable-openssl-auto-load-config \
	--enable-ares=$(ST_PREFIX) --with-zlib=$(ST_PREFIX) \
	--without-ca-bundle --without-ca-path --without-ca-fallback \
	--without-gssapi --without-brotli --without-zstd --without-libpsl --without-libgsasl \
	--without-libssh2 --without-libssh --without-wolfssh --without-librtmp --without-libidn2 \
	--without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-quiche --without-msh3 \
	--without-hyper --without-zsh-functions-dir --without-fish-functions-dir

$(ST_STAMP)/src-curl-$(ST_CURL_VER):
	mkdir -p $(ST_SRC) $(@D) && rm -rf $(ST_CURL_DIR)
	cd $(ST_SRC) && $(ST_APT) source --only-source curl=$(ST_CURL_VER)
	cd $(ST_CURL_DIR) && patch -R -p1 -s <debian/patches/99_nss.patch && patch -R -p1 -s <debian/patches/90_gnutls.patch
	touch $@

$(ST_STAMP)/curl: $(ST_STAMP)/src-curl-$(ST_CURL_VER) $(ST_STAMP)/debs $(ST_STAMP)/curl.opts | $(ST_STAMP)/systemd
	rm -rf $(ST_OBJ)/curl && mkdir -p $(ST_OBJ)/curl
	cd $(ST_OBJ)/curl && PKG_CONFIG_LIBDIR=$(ST_PREFIX)/lib/pkgconfig $(ST_CURL_DIR)/configure \
		CC=$(ST_CC) CFLAGS="$(ST_CFLAGS_SIZE)" CPPFLAGS="$(ST_CPPFLAGS)" LDFLAGS= LIBS= \
		$(ST_CURL_CONF) >configure.out
	$(MAKE) -C $(ST_OBJ)/curl/lib $(ST_SUBJOBS) libcurl.la >$(ST_OBJ)/curl/make.out
	cp $(ST_OBJ)/curl/lib/.libs/libcurl.a $(ST_PREFIX)/lib/
	rm -rf $(ST_PREFIX)/include/curl && mkdir -p $(ST_PREFIX)/include/curl
	cp $(ST_CURL_DIR)/include/curl/*.h $(ST_PREFIX)/include/curl/
	touch $@

# ---- the prefix ------------------------------------------------------------
# share/versions.txt: what went in, for the binary's --version and the docs.
$(ST_STAMP)/prefix: $(ST_STAMP)/debs $(ST_STAMP)/libssh $(ST_STAMP)/cjson $(ST_STAMP)/systemd $(ST_STAMP)/curl
	{ echo "systemd $(ST_SYSTEMD_VER) (source, libsystemd.a)"; \
	  echo "curl $(ST_CURL_VER) (source)"; \
	  echo "cjson $(ST_CJSON_VER) (source)"; \
	  $(if $(filter deb,$(ST_LIBSSH)),echo "libssh-dev $(ST_LIBSSH_DEV_VER) (Debian's libssh.a, GSSAPI stubbed)";,echo "libssh $(ST_LIBSSH_SRC_VER) (source)";) \
	  echo "libssl-dev $(ST_LIBSSL_DEV_VER)"; \
	  echo "libc-ares-dev $(ST_CARES_DEV_VER)"; \
	  echo "zlib1g-dev $(ST_ZLIB_DEV_VER)"; \
	  echo "ca-certificates $(ST_CACERTS_VER) ($$(grep -c 'BEGIN CERTIFICATE' $(ST_PREFIX)/share/ca-bundle.crt) certificates)"; \
	} >$(ST_PREFIX)/share/versions.txt
	cd $(ST_PREFIX)/lib && ls $(ST_LIBS) >/dev/null
	touch $@

# ---- the probe: proof that the prefix links static-pie (not shipped) -------
# ST_LDLIBS is the -l order porthole's static link needs. ST_LDFLAGS:
# --gc-sections drops the unused sections of the archives built here with
# -ffunction-sections; pack-relative-relocs (DT_RELR, glibc >= 2.36) shrinks
# static-pie's relocations from ~480 KiB to ~7 KiB.
# The linker warns about glibc functions that need NSS (dlopen of libnss_*.so
# of this glibc) in a static binary; they come from (object: function <- caller):
#   libsystemd.a user-util.o: getpwnam, getpwuid, getpwuid_r, getgrgid, getgrgid_r,
#     getgrnam <- get_user_creds, get_group_creds, get_home_dir, get_shell,
#     uid_to_name, gid_to_name (gc'ed from the probe: sd-event/sd-daemon/
#     sd-journal do not reach them); socket-util.o: getnameinfo <- socknameinfo_pretty
#   libssh.a misc.o: getpwnam <- ssh_path_expand_tilde; getpwuid_r <-
#     ssh_get_user_home_dir, ssh_get_local_username (client defaults: ~/.ssh, user);
#     bind.o: getaddrinfo <- ssh_bind_listen; connect.o: getaddrinfo <- getai
#     (ssh_connect): no NSS when the address and port are numeric
#   libcrypto.a bio_addr.o: getaddrinfo <- BIO_lookup_ex, getnameinfo <- addr_strings;
#     bio_sock.o: gethostbyname <- BIO_gethostbyname; dso_dlfcn.o: dlopen <-
#     dlfcn_load (engines/providers loaded from files: none here)
#   libcares.a ares_getaddrinfo.o: getservbyname <- ares_getaddrinfo, only for a
#     non-numeric service (curl passes ARES_AI_NUMERICSERV); ares_getnameinfo.o:
#     getservbyport_r <- ares_getnameinfo
ST_LDLIBS := -lcurl -lcares -lssh $(if $(filter deb,$(ST_LIBSSH)),-lgssapi_stub) -lssl -lcrypto -lz \
	-lcjson -lsystemd
ST_LDFLAGS := -static-pie -Wl,--gc-sections -Wl,-z,pack-relative-relocs
.PHONY: static-probe static-probe-check
static-probe: $(ST)/probe

$(ST)/probe: packaging/static/probe.c $(ST_STAMP)/prefix
	$(ST_CC) -std=gnu11 -Wall -Wextra -O2 -fPIE -I$(ST_PREFIX)/include -o $@ $< \
		-L$(ST_PREFIX)/lib $(ST_LDLIBS) $(ST_LDFLAGS) 2>$(ST)/probe.link.log || { cat $(ST)/probe.link.log; exit 1; }
	@sed -n "s/.*warning: Using '\([^']*\)'.*/probe: link warning: \1 (needs NSS or dlopen at run time)/p" $(ST)/probe.link.log

# as root: file, strace, PID 1 in a busybox-static root
static-probe-check: $(ST)/probe
	packaging/static/probe-check.sh $(ST)/probe
