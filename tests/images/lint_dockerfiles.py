#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""lint_dockerfiles.py — hadolint-style checks for porthole's Dockerfiles,
plus shellcheck on the shell text of every RUN.

    lint_dockerfiles.py [--no-shellcheck] [DOCKERFILE...]
        (no files: every dockerfiles/*/Dockerfile of the repository)

Prints `FILE:LINE: RULE message` per finding; exits 1 if there is any, 2 on
usage errors.  The rules are the ones that matter for a SageMaker image built
from these files (hadolint's number, where it has one, in brackets):

  PH001  every FROM is ${BASE_IMAGE} (or an earlier stage), and ARG BASE_IMAGE
         with a default comes before the first FROM, so tests can build from
         a local base
  PH002  no `latest` and no missing tag: BASE_IMAGE's default, FROM images,
         COPY --from images [DL3006, DL3007]
  PH003  apt-get: `update` and `install` in the same RUN [DL3009], install
         with -y [DL3014] and --no-install-recommends [DL3015], the lists
         removed in that RUN [DL3009]; no `apt` [DL3027], no upgrade [DL3005]
  PH004  dnf/yum/microdnf: install with -y [DL3038], `clean all` in the same
         RUN [DL3040]
  PH005  ENTRYPOINT and CMD in exec (JSON) form [DL3025]; the final stage's
         ENTRYPOINT is ["porthole","run","--"] and its CMD ["train"] (what
         SageMaker's `docker run IMAGE train` needs)
  PH006  no secrets in the image: no COPY/ADD of private keys, AWS credentials
         or .pem/.key files; no ENV/ARG that sets a password, token or secret
         key [DL3059-like]
  PH007  COPY rather than ADD for files; no ADD of URLs [DL3020]
  PH008  nothing put in /opt/ml: SageMaker mounts it at run time
  PH009  absolute WORKDIR [DL3000]; no MAINTAINER [DL4000]; no sudo [DL3004];
         a pipe in RUN needs `set -o pipefail` [DL4006]
  PH010  shellcheck -s sh on each RUN's shell text (the RUN's flags removed)
  PH011  a carrier image (one stage, FROM scratch: dockerfiles/static) holds
         the static binary and nothing else: one COPY of porthole, no RUN, no
         ADD; PH001 and PH005 do not apply to it (nobody trains in it: other
         images COPY --from it)

Not required (deliberately): USER (SageMaker runs training as root),
HEALTHCHECK (nothing polls a training container), version pins (the images
follow their base's security updates).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHELLCHECK = shutil.which("shellcheck", path="/usr/bin:/bin:/usr/local/bin")

SECRET_SOURCES = re.compile(
    r"(^|/)(id_(rsa|dsa|ecdsa|ed25519)(?!\.pub)|\.aws|credentials|\.netrc|\.pgpass|\.docker/config\.json|"
    r"ssh_host_[a-z0-9]+_key(?!\.pub)|[^/]*\.(pem|key|p12|pfx))$")
SECRET_NAMES = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)",
                          re.I)


@dataclass
class Instr:
    line: int          # first line in the file
    name: str          # upper-case instruction
    args: str          # the rest, continuation lines joined
    flags: list[str] = field(default_factory=list)
    body: str = ""     # args without leading --flags


@dataclass
class Finding:
    path: str
    line: int
    rule: str
    msg: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.rule} {self.msg}"


def parse(text: str) -> list[Instr]:
    """Dockerfile instructions with backslash continuations joined and comment
    lines inside continuations dropped (as Docker does).  Heredocs are not
    used in these files and are reported as an instruction named HEREDOC."""
    out: list[Instr] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        if not s or s.startswith("#"):
            i += 1
            continue
        start = i + 1
        parts = []
        cur = raw
        while True:
            stripped = cur.rstrip()
            if stripped.endswith("\\"):
                parts.append(stripped[:-1])
                i += 1
                while i < len(lines) and lines[i].strip().startswith("#"):
                    i += 1
                if i >= len(lines):
                    break
                cur = lines[i]
            else:
                parts.append(cur)
                i += 1
                break
        joined = " ".join(p.strip() for p in parts).strip()
        name, _, args = joined.partition(" ")
        ins = Instr(start, name.upper(), args.strip())
        if "<<" in ins.args and re.search(r"<<-?\s*['\"]?[A-Za-z_]+['\"]?\s*$", ins.args.split("\n")[0]) \
                and ins.name in ("RUN", "COPY"):
            ins.name = "HEREDOC"
        rest = ins.args
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            ins.flags.append(flag)
            rest = rest.lstrip()
        ins.body = rest
        out.append(ins)
    return out


def exec_form(args: str) -> list[str] | None:
    try:
        v = json.loads(args)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def image_tag_problem(ref: str) -> str | None:
    """None if ref names a pinned tag or digest; else what is wrong."""
    if "@sha256:" in ref:
        return None
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {ref!r} has no tag (means latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {ref!r} uses the latest tag"
    return None


def run_commands(body: str) -> list[list[str]]:
    """The simple commands of a RUN's shell text (split on && || ; |), as
    token lists: enough to find apt-get/dnf invocations and their options."""
    try:
        lex = shlex.shlex(body, posix=True, punctuation_chars=";&|")
        lex.whitespace_split = True
        toks = list(lex)
    except ValueError:
        return [body.split()]
    cmds, cur = [], []
    for t in toks:
        if t and set(t) <= set(";&|"):
            if cur:
                cmds.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        cmds.append(cur)
    # drop leading VAR=value assignments
    return [[t for j, t in enumerate(c) if not (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", t)
                                                and all(re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", x) for x in c[:j + 1]))]
            for c in cmds]


def lint(path: Path, shellcheck: bool = True) -> list[Finding]:
    text = path.read_text()
    ins = parse(text)
    f: list[Finding] = []
    p = str(path)

    def add(i: Instr | int, rule: str, msg: str):
        f.append(Finding(p, i if isinstance(i, int) else i.line, rule, msg))

    froms = [i for i in ins if i.name == "FROM"]
    if not froms:
        add(1, "PH001", "no FROM")
        return f
    if len(froms) == 1 and froms[0].body.split()[:1] == ["scratch"]:
        lint_carrier(ins, add)
        return f
    # PH001/PH002: ARG BASE_IMAGE before the first FROM, with a pinned default
    pre = [i for i in ins if i.line < froms[0].line]
    base_arg = [i for i in pre if i.name == "ARG" and re.match(r"^BASE_IMAGE(=|$)", i.body)]
    if not base_arg:
        add(froms[0], "PH001", "no `ARG BASE_IMAGE=...` before the first FROM")
    else:
        _, eq, default = base_arg[0].body.partition("=")
        default = default.strip().strip("\"'")
        if not eq or not default:
            add(base_arg[0], "PH001", "ARG BASE_IMAGE has no default (a real public base image)")
        else:
            why = image_tag_problem(default)
            if why:
                add(base_arg[0], "PH002", why)
    for i in pre:
        if i.name not in ("ARG",):
            add(i, "PH001", f"{i.name} before the first FROM (only ARG belongs there)")

    stages: set[str] = set()
    final_start = froms[-1].line
    entry = cmd = None
    for i in ins:
        b = i.body
        if i.name == "FROM":
            toks = b.split()
            image = toks[0] if toks else ""
            if image not in ("${BASE_IMAGE}", "$BASE_IMAGE") and image.lower() not in stages:
                add(i, "PH001", f"FROM {image}: use ${{BASE_IMAGE}} (or an earlier stage)")
            if len(toks) >= 3 and toks[1].upper() == "AS":
                stages.add(toks[2].lower())
            for fl in i.flags:
                if fl.startswith("--platform="):
                    add(i, "PH001", "FROM --platform pins an architecture; leave it to the builder")
        elif i.name == "HEREDOC":
            add(i, "PH010", "heredocs are not checked by this linter; write the script as a RUN or a file")
        elif i.name == "MAINTAINER":
            add(i, "PH009", "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=...")
        elif i.name == "WORKDIR":
            if not (b.startswith("/") or b.startswith("$")):
                add(i, "PH009", f"WORKDIR {b} is relative; use an absolute path")
            if re.match(r"^/opt/ml(/|$)", b):
                add(i, "PH008", "WORKDIR under /opt/ml: SageMaker mounts /opt/ml at run time")
        elif i.name in ("ENTRYPOINT", "CMD"):
            v = exec_form(b)
            if v is None:
                add(i, "PH005", f"{i.name} in shell form; use the exec (JSON) form so signals reach PID 1")
            if i.line >= final_start:
                if i.name == "ENTRYPOINT":
                    entry = (i, v)
                else:
                    cmd = (i, v)
        elif i.name in ("COPY", "ADD"):
            try:
                toks = shlex.split(b)
            except ValueError:
                toks = b.split()
            v = exec_form(b)
            if v is not None:
                toks = v
            srcs, dest = toks[:-1], toks[-1] if toks else ""
            for fl in i.flags:
                if fl.startswith("--from="):
                    ref = fl.split("=", 1)[1]
                    if ref.lower() not in stages and not ref.isdigit():
                        why = image_tag_problem(ref)
                        if why:
                            add(i, "PH002", f"COPY --from: {why}")
            if i.name == "ADD":
                if any(re.match(r"^(https?|git)://", s) for s in srcs):
                    add(i, "PH007", "ADD of a URL: download in a RUN with a checksum check, or COPY")
                elif not any(re.search(r"\.(tar|tgz|tar\.\w+)$", s) for s in srcs):
                    add(i, "PH007", "ADD of files: use COPY")
            for s in srcs:
                if SECRET_SOURCES.search(s.rstrip("/")):
                    add(i, "PH006", f"{i.name} {s}: looks like a private key or credentials; never bake them into an image")
            if re.match(r"^/opt/ml(/|$)", dest):
                add(i, "PH008", f"{i.name} into {dest}: SageMaker mounts /opt/ml at run time, hiding it")
        elif i.name in ("ENV", "ARG"):
            for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(\"[^\"]*\"|'[^']*'|\S*))?", b):
                name, val = m.group(1), m.group(2)
                if SECRET_NAMES.search(name) and (i.name == "ENV" or val):
                    add(i, "PH006", f"{i.name} {name}: secrets end up in the image's config and history; "
                                    "pass them at run time")
        elif i.name == "RUN":
            if exec_form(b) is not None:
                continue
            f.extend(lint_run(p, i))

    # PH005: the final stage must run porthole as the SageMaker entrypoint
    last = froms[-1]
    if entry is None:
        add(last, "PH005", 'final stage has no ENTRYPOINT ["porthole", "run", "--"]')
    elif entry[1] is not None and entry[1] != ["porthole", "run", "--"]:
        add(entry[0], "PH005", f'final ENTRYPOINT is {entry[1]}; porthole images use ["porthole", "run", "--"]')
    if cmd is None:
        add(last, "PH005", 'final stage has no CMD ["train"]')
    elif cmd[1] is not None and cmd[1] != ["train"]:
        add(cmd[0], "PH005", f'final CMD is {cmd[1]}; SageMaker passes "train", so CMD ["train"]')

    if shellcheck:
        f.extend(shellcheck_runs(p, ins))
    return f


def lint_carrier(ins: list[Instr], add) -> None:
    """PH011: FROM scratch, one COPY of porthole, nothing that runs."""
    copies = [i for i in ins if i.name == "COPY"]
    for i in ins:
        if i.name in ("RUN", "ADD"):
            add(i, "PH011", f"{i.name} in a carrier image: it holds only the static binary")
        elif i.name in ("ENTRYPOINT", "CMD") and exec_form(i.body) is None:
            add(i, "PH005", f"{i.name} in shell form; use the exec (JSON) form")
    if len(copies) != 1 or not copies[0].body.split()[:1] == ["porthole"]:
        add(copies[0] if copies else 1, "PH011", "a carrier image has exactly one COPY, of porthole")


def lint_run(p: str, i: Instr) -> list[Finding]:
    f: list[Finding] = []
    b = i.body

    def add(rule, msg):
        f.append(Finding(p, i.line, rule, msg))

    cmds = run_commands(b)
    apt_update = apt_install = dnf_install = dnf_clean = False
    for c in cmds:
        if not c:
            continue
        prog = c[0].rsplit("/", 1)[-1]
        if prog == "sudo":
            add("PH009", "sudo in RUN: build steps run as root already")
            c = c[1:]
            prog = c[0] if c else ""
        sub = next((t for t in c[1:] if not t.startswith("-")), "")
        if prog == "apt":
            add("PH003", "use apt-get, not apt (no stable CLI for scripts)")
        if prog in ("apt-get", "apt"):
            if sub == "update":
                apt_update = True
            elif sub == "install":
                apt_install = True
                if not any(t in ("-y", "--yes", "--assume-yes", "-qy", "-yq") for t in c):
                    add("PH003", "apt-get install without -y")
                if "--no-install-recommends" not in c:
                    add("PH003", "apt-get install without --no-install-recommends")
            elif sub in ("upgrade", "dist-upgrade", "full-upgrade"):
                add("PH003", f"apt-get {sub}: update the base image instead")
        if prog in ("dnf", "yum", "microdnf", "tdnf"):
            if sub == "install":
                dnf_install = True
                if prog != "microdnf" and not any(t in ("-y", "--assumeyes") for t in c):
                    add("PH004", f"{prog} install without -y")
            elif sub == "clean" and "all" in c:
                dnf_clean = True
    if apt_install:
        if not apt_update:
            add("PH003", "apt-get install without apt-get update in the same RUN (stale or missing lists)")
        if not re.search(r"rm\s+-(r?f|f?r)\S*\s+/var/lib/apt/lists/\*?", b):
            add("PH003", "apt lists not removed in the same RUN (rm -rf /var/lib/apt/lists/*)")
    elif apt_update:
        add("PH003", "apt-get update without install in the same RUN: the lists go stale in their own layer")
    if dnf_install and not dnf_clean:
        add("PH004", "dnf/yum install without `clean all` in the same RUN")
    if re.search(r"(?<![|])\|(?![|])", b) and "pipefail" not in b:
        add("PH009", "pipe in RUN without `set -o pipefail`: a failing left side goes unnoticed")
    return f


def shellcheck_runs(p: str, ins: list[Instr]) -> list[Finding]:
    if not SHELLCHECK:
        return [Finding(p, 1, "PH010", "shellcheck is not installed (apt-get install shellcheck)")]
    f: list[Finding] = []
    declared: set[str] = set()
    for i in ins:
        if i.name in ("ARG", "ENV"):
            for m in re.finditer(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", i.body):
                declared.add(m.group(1))
        if i.name == "FROM":
            declared = {d for d in declared if d.isupper()}  # ARG/ENV scope is per stage (approximately)
        if i.name != "RUN" or exec_form(i.body) is not None:
            continue
        # Variables from ARG/ENV are set when the RUN runs; tell shellcheck.
        header = "".join(f"{d}=${{{d}-}}\n" for d in sorted(declared))
        script = header + i.body + "\n"
        r = subprocess.run([SHELLCHECK, "-s", "sh", "-f", "gcc", "-"], input=script, capture_output=True, text=True)
        if r.returncode != 0:
            msgs = [re.sub(r"^-:\d+:\d+:\s*", "", ln) for ln in r.stdout.splitlines() if ln.strip()]
            for m in msgs or [r.stderr.strip() or f"shellcheck exited {r.returncode}"]:
                f.append(Finding(p, i.line, "PH010", f"shellcheck: {m}"))
    return f


def default_files() -> list[Path]:
    return sorted((REPO / "dockerfiles").glob("*/Dockerfile"))


def main(argv: list[str]) -> int:
    shell = True
    files = []
    for a in argv:
        if a == "--no-shellcheck":
            shell = False
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif a.startswith("-"):
            print(f"lint_dockerfiles.py: unknown option {a}", file=sys.stderr)
            return 2
        else:
            files.append(Path(a))
    files = files or default_files()
    if not files:
        print("lint_dockerfiles.py: no Dockerfiles", file=sys.stderr)
        return 2
    findings = []
    for path in files:
        findings += lint(path, shell)
    for x in findings:
        print(x)
    print(f"lint_dockerfiles.py: {len(files)} Dockerfile(s), {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
