#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What porthole adds to a container image, against openssh-server.

    make image-size            (or)   /usr/bin/python3 bench/image_size.py
    (also the `image-size` section of `make bench`)

Builds dockerfiles/debian/Dockerfile with podman (vfs, chroot isolation) from
the debootstrap bookworm base of tests/images/rootfs.sh, in a private store
that is removed afterwards, and reports:

  - porthole's own layer: the final stage's one COPY layer (the stripped
    binary and porthole.sh), its bytes from `podman history`;
  - porthole's runtime libraries beyond the base: the layer of the final
    stage's apt-get RUN, and the same packages' Installed-Size;
  - openssh-server as an image would get it: a throwaway build from the same
    base that runs `apt-get install --no-install-recommends openssh-server`,
    with the Installed-Size of every package that install added (dpkg-query
    before and after) and that layer's bytes.

The goal (issue 7): porthole's layer under 1/4 of openssh-server's installed
size.  A figure, not a test: it prints and never fails on a missed goal.
Needs root, podman and debootstrap (make deps).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "images"))
from podman_store import Store  # noqa: E402

RUNTIME_PKGS = "libssh-4 libcurl4 libcjson1 libsystemd0 ca-certificates"  # as in dockerfiles/debian
SSHD_PKGS = "openssh-server"
OPENSSH_PKGS = "openssh-server openssh-client"  # what the static binary replaces: server, client, sftp-server

# One RUN that installs PKGS and prints each package it added with its
# Installed-Size (KiB) on a line of its own (PH-PKG NAME KIB) in the build log.
PROBE = r"""ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG PKGS
RUN dpkg-query -W -f='${Package}\n' | sort >/tmp/before \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null \
 && dpkg-query -W -f='${Package} ${Installed-Size}\n' | sort >/tmp/after \
 && awk 'NR==FNR { had[$1] = 1; next } !($1 in had) { print "PH-PKG", $1, $2 }' /tmp/before /tmp/after \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/before /tmp/after
"""


def fmt(n: float) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.2f} MiB"
    return f"{n / 1024:.0f} KiB"


def probe(store: Store, base: str, tag: str, pkgs: str, ctx: Path) -> tuple[dict[str, int], int]:
    """({package: Installed-Size bytes} added by installing pkgs, layer bytes)."""
    store.build(tag, ctx / "Containerfile", ctx, {"BASE_IMAGE": base, "PKGS": pkgs}, extra=["--no-cache"])
    log = store.build_log(tag)
    added = {m.group(1): int(m.group(2)) * 1024 for m in re.finditer(r"^PH-PKG (\S+) (\d+)$", log, re.M)}
    if not added:
        raise RuntimeError(f"no packages added by installing {pkgs}? see the build log:\n{log[-3000:]}")
    layer = store.layers(tag)[-1]["size"]
    return added, layer


def measure(store: Store) -> dict:
    t0 = time.monotonic()
    base = store.import_base()
    nbase = store.layer_count(base)
    image = store.build("localhost/porthole-size:debian", REPO / "dockerfiles" / "debian" / "Dockerfile", REPO,
                        {"BASE_IMAGE": base})
    added = store.layers(image)[nbase:]
    if not added or "COPY" not in added[-1]["created_by"]:
        raise RuntimeError(f"the final layer of dockerfiles/debian is not porthole's COPY: {added}")
    porthole_layer = added[-1]["size"]
    deps_layer = sum(x["size"] for x in added[:-1])
    cid, root = store.rootfs(image)
    try:
        files = {p: (root / p).stat().st_size for p in ("usr/bin/porthole", "usr/share/porthole/porthole.sh")}
    finally:
        store.drop_rootfs(cid)

    with tempfile.TemporaryDirectory(prefix="ph-probe-", dir="/var/tmp") as d:
        ctx = Path(d)
        (ctx / "Containerfile").write_text(PROBE)
        deps_pkgs, _ = probe(store, base, "localhost/porthole-size:deps", RUNTIME_PKGS, ctx)
        sshd_pkgs, sshd_layer = probe(store, base, "localhost/porthole-size:sshd", SSHD_PKGS, ctx)
        openssh_pkgs, _ = probe(store, base, "localhost/porthole-size:openssh", OPENSSH_PKGS, ctx)
    static = REPO / "build" / "static" / "porthole"
    return {
        "porthole_layer": porthole_layer, "files": files, "deps_layer": deps_layer, "deps_pkgs": deps_pkgs,
        "sshd_pkgs": sshd_pkgs, "sshd_layer": sshd_layer, "openssh_pkgs": openssh_pkgs,
        "static": static.stat().st_size if static.is_file() else None, "seconds": time.monotonic() - t0,
    }


def pkg_list(pkgs: dict[str, int]) -> str:
    return ", ".join(f"{p} {fmt(n)}" for p, n in sorted(pkgs.items(), key=lambda kv: (-kv[1], kv[0])))


def rows(m: dict) -> tuple[list[tuple], list[str]]:
    """(figure, value, goal, met) rows, as bench.py's Row takes them, and
    detail lines (the files and packages behind the figures)."""
    sshd_inst = sum(m["sshd_pkgs"].values())
    deps_inst = sum(m["deps_pkgs"].values())
    ratio = m["porthole_layer"] / sshd_inst
    table = [
        ("porthole's layer (one COPY: binary + porthole.sh)", fmt(m["porthole_layer"]), "", None),
        (f"openssh-server installed size ({len(m['sshd_pkgs'])} packages)", fmt(sshd_inst), "", None),
        ("  openssh-server's layer (apt-get install)", fmt(m["sshd_layer"]), "", None),
        ("porthole's layer / openssh-server installed size", f"{ratio:.3f} (1/{1 / ratio:.0f})", "< 1/4",
         ratio < 0.25),
        ("porthole's layer / openssh-server's layer", f"{m['porthole_layer'] / m['sshd_layer']:.3f}", "", None),
        (f"porthole's runtime libraries, installed ({len(m['deps_pkgs'])} packages)", fmt(deps_inst), "", None),
        ("  their layer (apt-get install)", fmt(m["deps_layer"]), "", None),
        ("(porthole's layer + libraries) / openssh-server installed",
         f"{(m['porthole_layer'] + deps_inst) / sshd_inst:.2f}", "", None),
    ]
    openssh_inst = sum(m["openssh_pkgs"].values())
    if m["static"] is None:
        table.append(("static porthole (one file, no libraries)", "not built: make static", "", None))
    else:
        table += [
            ("static porthole (one file, no libraries)", fmt(m["static"]), "<= 6 MiB", m["static"] <= 6 * 1024 * 1024),
            (f"openssh-server + openssh-client installed ({len(m['openssh_pkgs'])} packages)", fmt(openssh_inst), "",
             None),
            ("static porthole / openssh-server + openssh-client", f"{m['static'] / openssh_inst:.2f}", "", None),
        ]
    table.append(("measured in (builds included)", f"{m['seconds']:.0f} s", "", None))
    notes = [
        "porthole's layer: " + ", ".join(f"/{p} {fmt(n)}" for p, n in m["files"].items()),
        "openssh-server (--no-install-recommends) adds: " + pkg_list(m["sshd_pkgs"]),
        f"porthole's runtime packages ({RUNTIME_PKGS}) add: " + pkg_list(m["deps_pkgs"]),
        f"{OPENSSH_PKGS} (--no-install-recommends) add: " + pkg_list(m["openssh_pkgs"]),
        "(base: Debian 12 minbase from debootstrap; a base that already has these libraries pays only the layer)",
    ]
    return table, notes


def run() -> tuple[list[tuple], list[str]]:
    if os.geteuid() != 0:
        raise RuntimeError("needs root (podman import/build)")
    store = Store(prefix="ph-imgsize-")
    try:
        return rows(measure(store))
    finally:
        store.cleanup()


def main() -> int:
    try:
        table, notes = run()
    except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not trace back
        print(f"image_size.py: could not measure: {e}", file=sys.stderr)
        return 1
    w = [max(len(str(r[i])) for r in table) for i in range(3)]
    for fig, val, goal, met in table:
        res = "" if met is None else ("met" if met else "MISSED")
        print(f"{fig.ljust(w[0])}  {val.ljust(w[1])}  {goal.ljust(w[2])}  {res}".rstrip())
    print()
    for n in notes:
        print(textwrap.fill(n, width=110, subsequent_indent="    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
