# SPDX-License-Identifier: Apache-2.0
"""The Dockerfile linter: every file in dockerfiles/ (including the Amazon
Linux one, which cannot be built here) passes it, and it does catch what it
claims to."""

import subprocess
import sys
from pathlib import Path

import pytest

import lint_dockerfiles as lint

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE} AS build
RUN apt-get update \\
 && apt-get install -y --no-install-recommends gcc \\
 && rm -rf /var/lib/apt/lists/*
FROM ${BASE_IMAGE}
COPY --from=build /out/ /
ENTRYPOINT ["porthole", "run", "--"]
CMD ["train"]
"""


def findings(tmp_path, text, shellcheck=True):
    p = tmp_path / "Dockerfile"
    p.write_text(text)
    return [(x.rule, x.msg) for x in lint.lint(p, shellcheck)]


def test_all_dockerfiles_pass():
    files = lint.default_files()
    names = {f.parent.name for f in files}
    assert {"debian", "example-python", "al2023"} <= names, names
    r = subprocess.run([sys.executable, str(Path(lint.__file__)), *map(str, files)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerignore_keeps_build_and_git_out():
    lines = {ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".git", "build"} <= lines


def test_good_file_is_clean(tmp_path):
    assert findings(tmp_path, GOOD) == []


@pytest.mark.parametrize("old,new,rule,words", [
    ("FROM ${BASE_IMAGE} AS build", "FROM debian:bookworm AS build", "PH001", "use ${BASE_IMAGE}"),
    ("ARG BASE_IMAGE=debian:bookworm-slim", "ARG BASE_IMAGE=debian:latest", "PH002", "latest"),
    ("ARG BASE_IMAGE=debian:bookworm-slim", "ARG BASE_IMAGE=debian", "PH002", "no tag"),
    ("ARG BASE_IMAGE=debian:bookworm-slim", "ARG FOO=1", "PH001", "ARG BASE_IMAGE"),
    ("--no-install-recommends ", "", "PH003", "--no-install-recommends"),
    ("install -y", "install", "PH003", "without -y"),
    (" \\\n && rm -rf /var/lib/apt/lists/*", "", "PH003", "lists not removed"),
    ("RUN apt-get update \\\n && ", "RUN ", "PH003", "without apt-get update"),
    ('ENTRYPOINT ["porthole", "run", "--"]', "ENTRYPOINT porthole run --", "PH005", "shell form"),
    ('CMD ["train"]', 'CMD ["python3", "train.py"]', "PH005", "CMD"),
    ('CMD ["train"]\n', "", "PH005", "no CMD"),
    ("COPY --from=build /out/ /", "COPY id_rsa /root/.ssh/id_rsa", "PH006", "private key"),
    ("COPY --from=build /out/ /", "COPY .aws /root/.aws", "PH006", "credentials"),
    ("COPY --from=build /out/ /", "ENV AWS_SECRET_ACCESS_KEY=abc", "PH006", "secrets"),
    ("COPY --from=build /out/ /", "ADD train /usr/bin/train", "PH007", "COPY"),
    ("COPY --from=build /out/ /", "COPY train /opt/ml/code/train", "PH008", "/opt/ml"),
    ("COPY --from=build /out/ /", "WORKDIR src", "PH009", "relative"),
    ("COPY --from=build /out/ /", "RUN curl -s http://x | sh", "PH009", "pipefail"),
    ("COPY --from=build /out/ /", "RUN echo $undeclared", "PH010", "shellcheck"),
    ("COPY --from=build /out/ /", "RUN dnf install -y x", "PH004", "clean all"),
    ("COPY --from=build /out/ /", "RUN apt-get update && apt-get upgrade -y && rm -rf /var/lib/apt/lists/*",
     "PH003", "upgrade"),
])
def test_rule_catches(tmp_path, old, new, rule, words):
    assert old in GOOD
    got = findings(tmp_path, GOOD.replace(old, new, 1))
    hits = [m for r, m in got if r == rule and words in m]
    assert hits, f"expected {rule} mentioning {words!r}; got {got}"


def test_arg_variables_are_known_to_shellcheck(tmp_path):
    text = GOOD.replace("COPY --from=build /out/ /", 'ARG pkg=x\nRUN echo "$pkg"')
    assert findings(tmp_path, text) == []


def test_comments_inside_continuations(tmp_path):
    text = GOOD.replace("RUN apt-get update \\\n", "RUN apt-get update \\\n# a comment line\n")
    assert findings(tmp_path, text) == []


CARRIER = 'FROM scratch\nCOPY porthole /porthole\nENTRYPOINT ["/porthole"]\nCMD ["version"]\n'


def test_carrier_image_is_clean(tmp_path):
    # dockerfiles/static: FROM scratch, nothing but the binary; the training
    # image rules (BASE_IMAGE, the porthole ENTRYPOINT) do not apply.
    assert findings(tmp_path, CARRIER) == []


@pytest.mark.parametrize("new, words", [
    ('FROM scratch\nCOPY porthole /porthole\nRUN ["/porthole", "version"]\n', "RUN in a carrier"),
    ("FROM scratch\nCOPY porthole /porthole\nCOPY train /train\n", "exactly one COPY"),
    ("FROM scratch\nADD porthole /porthole\n", "ADD in a carrier"),
    ("FROM scratch\nCOPY porthole /porthole\nENTRYPOINT /porthole version\n", "shell form"),
])
def test_carrier_rules(tmp_path, new, words):
    got = findings(tmp_path, new)
    assert any(words in m for _, m in got), f"expected a finding mentioning {words!r}; got {got}"
