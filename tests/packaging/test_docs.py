# SPDX-License-Identifier: Apache-2.0
"""The documents: every relative link in README.md, docs/*.md and the other
Markdown files of the repository leads to a file that exists, and a #anchor
to a heading in it (GitHub's anchor rules); the README stays a short user
guide. No build needed.

Run: /usr/bin/python3 -m pytest -q tests/packaging/test_docs.py
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 200

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def markdown_files():
    skip = {"build", ".git", "node_modules"}
    files = [p for p in ROOT.rglob("*.md") if not skip & set(p.relative_to(ROOT).parts)]
    return sorted(files)


def prose(text):
    """The text without fenced code blocks, inline code and HTML comments,
    where a [x](y) is not a link."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(out)


def anchors(path):
    """GitHub's heading ids: lower case, punctuation dropped, spaces to
    hyphens, -1, -2 ... for repeats."""
    seen = {}
    ids = set()
    fenced = False
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        ids.add(slug if n == 0 else f"{slug}-{n}")
    return ids


def links(path):
    for target in LINK.findall(prose(path.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        yield target


@pytest.mark.parametrize("md", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(md):
    broken = []
    for target in links(md):
        file_part, _, anchor = target.partition("#")
        dest = (md.parent / file_part).resolve() if file_part else md
        if not dest.exists():
            broken.append(f"{target}: no {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{md.relative_to(ROOT)}: broken links:\n  " + "\n  ".join(broken)


def test_the_checker_sees_links_and_anchors(tmp_path):
    (tmp_path / "a.md").write_text("# Nodes (systemd)\n\n## `porthole hosts`, `porthole ssh`\n\n"
                                   "[x](b.md) `[not](a link)`\n```\n[nor](this)\n```\n")
    assert list(links(tmp_path / "a.md")) == ["b.md"]
    assert anchors(tmp_path / "a.md") == {"nodes-systemd", "porthole-hosts-porthole-ssh"}


def test_readme_is_short():
    n = len((ROOT / "README.md").read_text().splitlines())
    assert n <= README_MAX_LINES, f"README.md has {n} lines; move reference material to docs/"


def test_docs_the_readme_promises():
    for name in ("configuration", "iam", "packaging", "hyperpod", "troubleshooting"):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name
        assert f"(docs/{name}.md" in (ROOT / "README.md").read_text(), f"README does not link docs/{name}.md"
