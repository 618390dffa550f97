#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""layout_check.py — `make layout-check`: the seams of agent/ hold.

1. Every include that crosses areas ("../AREA/x.h") names a header listed
   as AREA's interface in docs/ARCHITECTURE.md's "Area interfaces" table,
   from an area that the table says may depend on AREA; the table's
   dependencies have no cycle; every folder of agent/ is in the table.
2. `make` rebuilds only what a header change touches: for every header,
   `make -n -W HEADER` recompiles exactly the objects whose -MMD
   dependency files name it, never the whole agent.
3. Every unit test binary links fewer agent modules than the whole agent
   (tests/unit/links.mk), and only modules that exist.
4. Every fuzz harness's module list (tests/fuzz/links.mk) is closed: each
   agent function a listed module calls is in a listed module (or stubbed
   by the harness), so `make fuzz` links.

Usage: layout_check.py BUILD_DIR   (after `make` and the unit tests built)
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENT = os.path.join(ROOT, "agent")
INCLUDE = re.compile(r'^#include "([^"]+)"', re.M)


def fail(problems, what):
    problems.append(what)


def area_table():
    """{area: (deps, interface headers)} from ARCHITECTURE.md."""
    text = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")).read()
    m = re.search(r"^## Area interfaces\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        sys.exit("layout-check: docs/ARCHITECTURE.md has no '## Area interfaces' section")
    table = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        area = cells[0].strip("`/")
        deps = set(re.findall(r"`([a-z]+)/?`", cells[1]))
        headers = set(re.findall(r"`([a-z_0-9]+\.h)`", cells[2]))
        table[area] = (deps, headers)
    if not table:
        sys.exit("layout-check: the 'Area interfaces' table has no rows")
    return table


def sources():
    for d, _, files in os.walk(AGENT):
        for f in files:
            if f.endswith((".c", ".h")):
                yield os.path.join(d, f)


def check_includes(problems):
    table = area_table()
    areas = {d for d in os.listdir(AGENT) if os.path.isdir(os.path.join(AGENT, d))}
    for a in sorted(areas - set(table)):
        fail(problems, "agent/%s/ is not in ARCHITECTURE.md's Area interfaces table" % a)
    for a in sorted(set(table) - areas):
        fail(problems, "Area interfaces lists %s/, which agent/ does not have" % a)
    for path in sources():
        rel = os.path.relpath(path, AGENT)
        own = rel.split("/")[0] if "/" in rel else None
        for inc in INCLUDE.findall(open(path).read()):
            if own is None:  # main.c: "area/x.h"
                area, _, header = inc.partition("/")
            elif inc.startswith("../"):
                area, _, header = inc[3:].partition("/")
            else:
                if "/" in inc:
                    fail(problems, "%s includes \"%s\": same-area includes have no path" % (rel, inc))
                continue
            if area not in table:
                fail(problems, "%s includes \"%s\": no such area" % (rel, inc))
                continue
            if header not in table[area][1]:
                fail(problems, "%s includes \"%s\", which is not one of %s/'s interface headers" % (rel, inc, area))
            if own is not None and area != own and area not in table[own][0]:
                fail(problems, "%s includes \"%s\", but %s/ may not depend on %s/" % (rel, inc, own, area))
    # No cycle among the documented dependencies.
    state = {}

    def visit(a, path):
        if state.get(a) == 1:
            fail(problems, "area dependency cycle: %s" % " -> ".join(path + [a]))
            return
        if state.get(a) == 2:
            return
        state[a] = 1
        for d in sorted(table.get(a, (set(), set()))[0]):
            visit(d, path + [a])
        state[a] = 2

    for a in sorted(table):
        visit(a, [])


def check_rebuilds(problems, build):
    objects = {}
    # gcc names a header as it was opened ("agent/ssh/../lib/log.h"); make
    # treats each spelling as its own file, so "what if" gets them all.
    spellings = {}
    for d, _, files in os.walk(os.path.join(build, "agent")):
        for f in files:
            # A .d whose source is gone (a file moved or deleted since) is
            # ignored: make would not build its object either.
            if f.endswith(".d") and os.path.exists(os.path.join(
                    AGENT, os.path.relpath(os.path.join(d, f), os.path.join(build, "agent"))[:-2] + ".c")):
                dep = open(os.path.join(d, f)).read().replace("\\\n", " ")
                target, _, rest = dep.split("\n\n")[0].partition(":")
                objects[target.strip()] = {os.path.normpath(x) for x in rest.split()}
                for x in rest.split():
                    spellings.setdefault(os.path.normpath(x), set()).add(x)
    if not objects:
        sys.exit("layout-check: no dependency files under %s/agent: run make first" % build)
    headers = sorted(os.path.relpath(p, ROOT) for p in sources() if p.endswith(".h"))
    for h in headers:
        what_if = [a for x in sorted(spellings.get(h, {h})) for a in ("-W", x)]
        out = subprocess.run(["make", "-n"] + what_if + ["BUILD=" + build, os.path.join(build, "porthole")],
                             cwd=ROOT, capture_output=True, text=True).stdout
        rebuilt = set(re.findall(r" -c -o (\S+\.o) ", out))
        expected = {o for o, deps in objects.items() if h in deps}
        if rebuilt != expected:
            fail(problems, "touching %s rebuilds %d objects, its dependents are %d (extra %s, missing %s)"
                 % (h, len(rebuilt), len(expected), sorted(rebuilt - expected)[:3],
                    sorted(expected - rebuilt)[:3]))
        elif len(rebuilt) >= len(objects):
            fail(problems, "touching %s rebuilds the whole agent" % h)


def check_unit_links(problems):
    modules = {os.path.relpath(p, AGENT)[:-2] for p in sources() if p.endswith(".c")} - {"main"}
    n = 0
    for line in open(os.path.join(ROOT, "tests", "unit", "links.mk")):
        m = re.match(r"^(\S+)_LINK\s*:=(.*)$", line)
        if not m:
            continue
        n += 1
        test, linked = m.group(1), m.group(2).split()
        fakes = [m for m in linked if m.startswith("fakes/")]
        for f in fakes:
            if not os.path.exists(os.path.join(ROOT, "tests", "unit", f + ".c")):
                fail(problems, "%s links %s, which tests/unit/ does not have" % (test, f))
        linked = [m for m in linked if m not in fakes]
        for mod in linked:
            if mod not in modules:
                fail(problems, "%s links %s, which is not an agent module" % (test, mod))
        if len(set(linked)) >= len(modules):
            fail(problems, "%s links the whole agent (%d modules)" % (test, len(modules)))
    tests = [t for t in os.popen("cd %s/tests/unit && ls */test_*.c" % ROOT).read().split()]
    if n < len(tests):
        fail(problems, "tests/unit/links.mk lists %d tests, tests/unit has %d" % (n, len(tests)))


def object_symbols(build):
    """{module: (defined, undefined)} from nm over the agent's objects in build."""
    out = {}
    for mod in {os.path.relpath(p, AGENT)[:-2] for p in sources() if p.endswith(".c")} - {"main"}:
        defined, undefined = set(), set()
        nm = subprocess.run(["nm", os.path.join(ROOT, build, "agent", mod + ".o")],
                            capture_output=True, text=True).stdout
        for line in nm.splitlines():
            f = line.split()
            if len(f) == 2 and f[0] == "U":
                undefined.add(f[1])
            elif len(f) == 3 and f[1] in "TDBRC":
                defined.add(f[2])
        out[mod] = (defined, undefined)
    return out


def check_fuzz_links(problems, build):
    # The fuzz harnesses are only linked by `make fuzz` (clang, CI's last
    # steps); checking here that each list is closed under the agent symbols
    # its modules call catches a module that grew a dependency in `make check`.
    objs = object_symbols(build)
    owner = {s: m for m, (d, _) in objs.items() for s in d}
    for line in open(os.path.join(ROOT, "tests", "fuzz", "links.mk")):
        m = re.match(r"^fuzz_(\S+)_LINK\s*:=(.*)$", line)
        if not m:
            continue
        name, linked = m.group(1), set(m.group(2).split())
        # A harness may stand in for a module it does not link (a stub at
        # column 0 in its source, "type name(args)" without a semicolon).
        harness = open(os.path.join(ROOT, "tests", "fuzz", name, "fuzz_%s.c" % name)).read()
        stubs = set(re.findall(r"^[A-Za-z_][^;\n]*?\b(\w+)\([^;]*$", harness, re.M))
        for mod in sorted(linked):
            if mod not in objs:
                fail(problems, "fuzz harness %s links %s, which is not an agent module" % (name, mod))
                continue
            for sym in sorted(objs[mod][1]):
                if sym in owner and owner[sym] not in linked and sym not in stubs:
                    fail(problems, "fuzz harness %s: %s calls %s, defined in %s, which "
                         "tests/fuzz/links.mk does not link" % (name, mod, sym, owner[sym]))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/std"
    problems = []
    check_includes(problems)
    check_rebuilds(problems, build)
    check_unit_links(problems)
    check_fuzz_links(problems, build)
    for p in problems:
        print("layout-check: " + p, file=sys.stderr)
    if problems:
        return 1
    print("layout-check: includes follow the area interfaces, header changes rebuild only their "
          "dependents, unit tests link parts of the agent, fuzz harness links are closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
