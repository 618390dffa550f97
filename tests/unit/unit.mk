# SPDX-License-Identifier: Apache-2.0
# tests/unit/unit.mk — the cmocka unit tests, one binary per module test.
# tests/unit/ mirrors agent/'s folders.  Each test links only the modules
# it names in its *_LINK list (agent paths without .c) plus fakes from
# tests/unit/fakes/: a test that needs more than its module's declared
# dependencies shows a seam that leaks.  `make layout-check` verifies that
# no test links the whole agent.
UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRC))
UNIT_BIN := $(patsubst %,$(BUILD)/tests/%,$(UNIT_NAMES))
UNIT_OBJ := $(patsubst %,$(BUILD)/tests/%.o,$(UNIT_NAMES))

include tests/unit/links.mk

# A _LINK entry fakes/x is tests/unit/fakes/x.c; any other an agent module.
FAKE_OBJ := $(patsubst tests/unit/%.c,$(BUILD)/tests/%.o,$(wildcard tests/unit/fakes/*.c))
unit_objs = $(patsubst %,$(BUILD)/agent/%.o,$(filter-out fakes/%,$(1))) $(patsubst %,$(BUILD)/tests/%.o,$(filter fakes/%,$(1)))
-include $(FAKE_OBJ:.o=.d)

define unit_template
$(BUILD)/tests/$(1): $(BUILD)/tests/$(1).o $(call unit_objs,$($(1)_LINK))
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LDLIBS_ALL) -lcmocka
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call unit_template,$(t))))

$(BUILD)/tests/%.o: tests/unit/%.c Makefile tests/unit/unit.mk
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iagent -Itests/unit -c -o $@ $<
