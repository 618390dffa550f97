# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/fuzz.mk — `make fuzz`: every libFuzzer harness in tests/fuzz/<name>/
# built with Debian's clang under ASan+UBSan and run for FUZZ_SECONDS from its
# committed seed corpus (tests/fuzz/<name>/corpus), two at a time (CI has two
# cores).  A crash, leak, timeout or sanitizer report fails the target; the
# input that caused it is kept in build/fuzz/crashes/<name>/ (tests/fuzz/README.md).
FUZZ_CC      ?= clang
# 12 harnesses, 2 at a time: 6 rounds of FUZZ_SECONDS, plus building, stays
# under 8 minutes on CI's 2 cores.
FUZZ_SECONDS ?= 55
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=gnu11 -g -O1 -Wall -Wextra -D_GNU_SOURCE -MMD -MP $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_NAMES   := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tests/fuzz/*/fuzz_*.c)))))
FUZZ_BIN     := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))

include tests/fuzz/links.mk

$(FUZZ_BUILD)/agent/%.o: agent/%.c Makefile tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/harness/%.o: tests/fuzz/%.c Makefile tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iagent -c -o $@ $<

define fuzz_template
$(FUZZ_BUILD)/fuzz_$(1): $(FUZZ_BUILD)/harness/$(1)/fuzz_$(1).o $(patsubst %,$(FUZZ_BUILD)/agent/%.o,$(fuzz_$(1)_LINK))
	$$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $$(LDLIBS_ALL)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_template,$(n))))

-include $(wildcard $(FUZZ_BUILD)/agent/*/*.d $(FUZZ_BUILD)/harness/*/*.d)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run.sh $(FUZZ_NAMES)
