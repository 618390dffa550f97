# SPDX-License-Identifier: Apache-2.0
"""The .deb and the RPM: built once per session with `make deb rpm`, then
checked as a user and a distribution would see them: lintian, Depends and
Requires, the payload, the extracted binary, the man page, the default conf
file against the binary, and the units under `systemd-analyze verify`.

Run: make dist-check   (or /usr/bin/python3 -m pytest -q tests/packaging)
"""

import gzip
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "build" / "pkg"
CONFIG_C = ROOT / "agent" / "daemon" / "config.c"
VERSION = re.search(r'#define PORTHOLE_VERSION "([^"]+)"', (ROOT / "agent" / "lib" / "version.h").read_text()).group(1)
DEB_VERSION = f"{VERSION}-1"

# What both packages must hold (the deb's paths; the RPM puts units in /usr/lib).
PAYLOAD = {
    "usr/bin/porthole",
    "usr/share/porthole/porthole.sh",
    "etc/porthole/porthole.conf",
    "usr/share/man/man8/porthole.8",
    "usr/share/doc/porthole/README.md",
    "usr/share/doc/porthole/docs/configuration.md",
    "lib/systemd/system/porthole.service",
    "lib/systemd/system/porthole.socket",
}
DEB_ONLY = {
    "usr/share/doc/porthole/copyright",
    "usr/share/doc/porthole/changelog.Debian.gz",
    "usr/share/lintian/overrides/porthole",
}


def run(*cmd, check=True, env=None, timeout=300, cwd=None):
    r = subprocess.run(list(cmd), capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd)
    if check and r.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r


def settings_table():
    """(name, layers) for every row of config.c's settings table."""
    table = CONFIG_C.read_text().split("settings[SET__COUNT] = {", 1)[1].split("\n};", 1)[0]
    rows = [re.match(r'\w+\]\s*=\s*\{\s*"(\w+)",(.*)', row, re.S) for row in table.split("[SET_")[1:]]
    assert len(rows) > 20 and all(rows), "could not read the settings table from agent/daemon/config.c"
    return [(m.group(1), "L_NO_HYPER" if "L_NO_HYPER" in m.group(2) else "L_ALL") for m in rows]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTHOLE_")}
    env.update(extra)
    return env


def paths(listing):
    """Normalised payload paths: no leading ./ or /, directories dropped."""
    out = set()
    for p in listing:
        p = p.lstrip(".").lstrip("/")
        if p:
            out.add(p)
    return out


@pytest.fixture(scope="session")
def built():
    """`make deb rpm`, once: both packages, fresh from this tree."""
    r = run("make", "--no-print-directory", "-C", str(ROOT), "deb", "rpm", timeout=900)
    return r.stdout + r.stderr


@pytest.fixture(scope="session")
def deb(built):
    arch = run("dpkg", "--print-architecture").stdout.strip()
    path = PKG / f"porthole_{DEB_VERSION}_{arch}.deb"
    assert path.is_file(), f"{path} missing; make deb said:\n{built}"
    return path


@pytest.fixture(scope="session")
def rpm(built):
    found = [p for p in PKG.glob(f"porthole-{VERSION}-*.rpm") if not p.name.endswith(".src.rpm")]
    assert len(found) == 1, f"expected one binary RPM in {PKG}, found {found}; make rpm said:\n{built}"
    return found[0]


@pytest.fixture(scope="session")
def deb_tree(deb, tmp_path_factory):
    root = tmp_path_factory.mktemp("deb-root")
    run("dpkg", "-x", str(deb), str(root))
    return root


@pytest.fixture(scope="session")
def rpm_tree(rpm, tmp_path_factory):
    root = tmp_path_factory.mktemp("rpm-root")
    tgz = subprocess.run(["rpm2archive", "-"], stdin=rpm.open("rb"), capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as t:
        t.extractall(root, filter="tar") if hasattr(tarfile, "data_filter") else t.extractall(root)
    return root


# ---- the license ---------------------------------------------------------------


def test_license_is_apache_2():
    """LICENSE is the Apache License 2.0 as Debian ships it, and the RPM spec says so."""
    text = (ROOT / "LICENSE").read_text()
    common = Path("/usr/share/common-licenses/Apache-2.0")
    if common.is_file():
        assert text == common.read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    spec = (ROOT / "packaging/rpm/porthole.spec").read_text()
    assert re.search(r"^License:\s+Apache-2.0$", spec, re.M)


SPDX = "SPDX-License-Identifier: Apache-2.0"
# Data, not source: formats with no comment syntax, the license itself, docs
# (Markdown, and the template of docs/configuration.md), fuzz seed corpora.
NO_SPDX = {"packaging/deb/changelog", "packaging/deb/control.in", "packaging/deb/copyright"}


def test_sources_carry_spdx_line():
    """Every source file in agent/, tests/, lifecycle/, packaging/, bench/,
    dockerfiles/ and the Makefile says its license on its first line (the
    second after a #! line), in the file's own comment syntax."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = run("git", "-C", str(ROOT), "ls-files", "agent", "tests", "lifecycle", "packaging", "bench",
                "dockerfiles", "Makefile").stdout.split()
    assert len(files) > 100, files
    missing = []
    for f in files:
        if f in NO_SPDX or f.endswith((".md", ".md.in", ".gitignore")) or "/corpus/" in f:
            continue
        lines = (ROOT / f).read_text().splitlines()[:2]
        if lines and lines[0].startswith("#!"):
            lines = lines[1:]
        want = (f"/* {SPDX} */" if f.endswith((".c", ".h")) else
                f'.\\" {SPDX}' if f.endswith(".8.in") else f"# {SPDX}")
        if not lines or lines[0] != want:
            missing.append(f)
    assert not missing, f"no {SPDX!r} line at the top of: {missing}"


# ---- the .deb -----------------------------------------------------------------


def test_deb_at_fixed_path_too(deb):
    assert (PKG / "porthole.deb").read_bytes() == deb.read_bytes()


def test_lintian_clean(deb):
    r = run("lintian", "--fail-on", "error,warning", str(deb), check=False)
    tags = [line for line in r.stdout.splitlines() if re.match(r"[EW]: ", line)]
    assert r.returncode == 0 and not tags, f"lintian exited {r.returncode}:\n{r.stdout}{r.stderr}"


def test_lintian_overrides_are_justified():
    """Each override follows a comment saying why the tag is wrong here."""
    lines = (ROOT / "packaging" / "deb" / "lintian-overrides").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            assert i > 0 and lines[i - 1].startswith("#"), f"override without a comment: {line}"


def test_deb_control_fields(deb):
    f = {k: run("dpkg-deb", "-f", str(deb), k).stdout.strip() for k in ("Package", "Version", "Depends")}
    assert f["Package"] == "porthole" and f["Version"] == DEB_VERSION
    deps = {d.split()[0]: d for d in (x.strip() for x in f["Depends"].split(","))}
    # dlopen()ed, so named explicitly, with a version bound
    assert re.fullmatch(r"libssh-4 \(>= 0\.1\d[\d.]*\)", deps.get("libssh-4", "")), f["Depends"]
    assert re.fullmatch(r"libcurl4 \(>= [78]\.[\d.]+\)", deps.get("libcurl4", "")), f["Depends"]
    # linked, found by dpkg-shlibdeps
    for lib in ("libcjson1", "libsystemd0", "libc6"):
        assert lib in deps, f["Depends"]


def test_deb_libc_bound_matches_binary(deb_tree, deb):
    """libc6 (>= X): X is the newest GLIBC_ symbol version the binary uses."""
    syms = run("objdump", "-T", str(deb_tree / "usr/bin/porthole")).stdout
    newest = max(
        (tuple(int(n) for n in v.split(".")) for v in re.findall(r"\(GLIBC_([\d.]+)\)", syms)),
        default=None,
    )
    assert newest, "no GLIBC_ versions in objdump -T"
    dep = run("dpkg-deb", "-f", str(deb), "Depends").stdout
    assert f"libc6 (>= {'.'.join(map(str, newest))})" in dep, (newest, dep)


def test_binary_needs_no_glibc_newer_than_al2023(deb_tree):
    """The RPM's target, Amazon Linux 2023, has glibc 2.34: the sources must
    use no newer glibc API, or they would not even build there."""
    syms = run("objdump", "-T", str(deb_tree / "usr/bin/porthole")).stdout
    versions = {tuple(int(n) for n in v.split(".")) for v in re.findall(r"\(GLIBC_([\d.]+)\)", syms)}
    assert versions, "no GLIBC_ versions in objdump -T"
    too_new = sorted(v for v in versions if v > (2, 34))
    assert not too_new, [l for l in syms.splitlines() if any(f"GLIBC_{'.'.join(map(str, v))}" in l for v in too_new)]


def test_deb_payload(deb):
    listing = paths(line.split()[-1] for line in run("dpkg-deb", "-c", str(deb)).stdout.splitlines())
    want = {p.replace("porthole.8", "porthole.8.gz") for p in PAYLOAD} | DEB_ONLY
    assert want <= listing, f"missing: {sorted(want - listing)}"
    assert not any("/build" in p or p.endswith(".o") for p in listing), sorted(listing)


def test_deb_conffile_and_scripts(deb, tmp_path):
    run("dpkg-deb", "-e", str(deb), str(tmp_path / "DEBIAN"))
    assert (tmp_path / "DEBIAN" / "conffiles").read_text().split() == ["/etc/porthole/porthole.conf"]
    for s in ("postinst", "prerm", "postrm"):
        script = tmp_path / "DEBIAN" / s
        run("sh", "-n", str(script))
        # installing the package must not enable or start anything
        assert not re.search(r"\b(enable|start|restart)\b", "\n".join(
            line for line in script.read_text().splitlines() if not line.lstrip().startswith("#"))), s


def test_deb_binary_runs(deb_tree):
    r = run(str(deb_tree / "usr/bin/porthole"), "--version")
    assert r.stdout.strip() == f"porthole {VERSION}"
    sections = run("readelf", "-S", "-W", str(deb_tree / "usr/bin/porthole")).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, "the packaged binary is not stripped"


def test_deb_lifecycle_script_is_the_source(deb_tree):
    installed = deb_tree / "usr/share/porthole/porthole.sh"
    assert installed.read_bytes() == (ROOT / "lifecycle" / "porthole.sh").read_bytes()
    run("sh", "-n", str(installed))


def test_deb_changelog_and_copyright(deb_tree):
    doc = deb_tree / "usr/share/doc/porthole"
    top = gzip.decompress((doc / "changelog.Debian.gz").read_bytes()).decode().splitlines()[0]
    assert top.startswith(f"porthole ({DEB_VERSION})"), top
    copyright = (doc / "copyright").read_text()
    assert copyright.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
    assert re.search(r"^Files: \*\nCopyright: .+\nLicense: Apache-2.0$", copyright, re.M), copyright
    assert "/usr/share/common-licenses/Apache-2.0" in copyright


def test_deb_installs_into_a_throwaway_root(deb, tmp_path):
    """dpkg --root with a fresh database: install, keep an edited conffile over a
    reinstall, remove (conffile stays), purge (gone). The maintainer scripts
    run chrootless (DPKG_ROOT set) and so leave this machine's systemd alone;
    --force-depends because the empty database knows no libraries."""
    root = tmp_path / "root"
    for d in ("info", "updates", "triggers"):
        (root / "var/lib/dpkg" / d).mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("")

    def dpkg(*args):
        return run("dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
                   "--force-confold", *args)

    dpkg("-i", str(deb))
    status = run("dpkg", f"--root={root}", "-s", "porthole").stdout
    assert "Status: install ok installed" in status and "/etc/porthole/porthole.conf" in status, status
    conf = root / "etc/porthole/porthole.conf"
    assert (root / "usr/bin/porthole").is_file() and conf.is_file()
    conf.write_text(conf.read_text() + "PORTHOLE_SSH_PORT=2222\n")
    dpkg("-i", str(deb))
    assert conf.read_text().endswith("PORTHOLE_SSH_PORT=2222\n"), "an edited conffile was replaced"
    dpkg("-r", "porthole")
    assert not (root / "usr/bin/porthole").exists() and conf.exists()
    dpkg("-P", "porthole")
    assert not conf.exists()
    assert run("dpkg", f"--root={root}", "-s", "porthole", check=False).returncode != 0


# ---- the man page --------------------------------------------------------------


@pytest.fixture(scope="session")
def man_text(deb_tree):
    page = deb_tree / "usr/share/man/man8/porthole.8.gz"
    r = run("man", "--warnings", "-l", str(page), env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8"))
    assert not r.stderr.strip(), f"man --warnings:\n{r.stderr}"
    return r.stdout


def test_man_renders_without_warnings(man_text):
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "SETTINGS", "FILES", "EXIT STATUS"):
        assert re.search(rf"^{section}$", man_text, re.M), section
    assert f"porthole {VERSION}" in man_text


def test_man_lists_every_command(man_text, deb_tree):
    usage = run(str(deb_tree / "usr/bin/porthole"), "--help").stdout
    commands = re.findall(r"^(?:usage:| {6}) porthole ([a-z-]+)", usage, re.M)
    assert len(commands) >= 14, usage
    commands_section = man_text.split("\nCOMMANDS\n", 1)[1].split("\nSETTINGS\n", 1)[0]
    for c in commands:
        assert re.search(rf"^ {{7}}{re.escape(c)}\b", commands_section, re.M), f"command {c} not in COMMANDS"


def test_man_lists_every_setting(man_text):
    flat = re.sub(r"\s+", " ", man_text)
    for name, _ in settings_table():
        assert re.search(rf"^ {{7}}PORTHOLE_{name} \(--{name.lower().replace('_', '-')}\)$", man_text, re.M), name
    assert "PORTHOLE_CONFIG" in flat


def test_man_names_the_settings_hyperparameters_cannot_set(man_text):
    flat = re.sub(r"\s+", " ", man_text)
    listed = flat.split("not read from hyperparameters", 1)[1].split(".", 1)[0]
    names = set(re.findall(r"PORTHOLE_(\w+)", listed))
    assert names == {n for n, layers in settings_table() if layers == "L_NO_HYPER"}


# ---- docs/configuration.md -------------------------------------------------------


def test_configuration_md_is_generated(deb_tree, tmp_path):
    """docs/configuration.md is what packaging/gendoc.sh makes from the built
    binary's settings table and packaging/configuration.md.in: a setting added,
    removed or with a new default or help text fails here until `make docs`."""
    run(str(ROOT / "packaging/gendoc.sh"), str(deb_tree / "usr/bin/porthole"), str(tmp_path))
    made = (tmp_path / "configuration.md").read_text()
    committed = (ROOT / "docs/configuration.md").read_text()
    assert made == committed, "docs/configuration.md is out of date: run `make docs` and commit it"
    assert (deb_tree / "usr/share/doc/porthole/docs/configuration.md").read_text() == committed


def test_configuration_md_lists_every_setting():
    text = (ROOT / "docs/configuration.md").read_text()
    rows = re.findall(r"^\| `PORTHOLE_(\w+)` \| `--([a-z0-9-]+)` \|", text, re.M)
    assert sorted(n for n, _ in rows) == sorted(n for n, _ in settings_table())
    assert all(flag == name.lower().replace("_", "-") for name, flag in rows), rows


def test_configuration_md_names_the_settings_hyperparameters_cannot_set():
    text = re.sub(r"\s+", " ", (ROOT / "docs/configuration.md").read_text())
    listed = text.split("## Bad values", 1)[0].rsplit("|", 1)[1]
    assert "cannot be set as hyperparameters" in listed, listed
    assert set(re.findall(r"PORTHOLE_(\w+)", listed)) == {n for n, layers in settings_table() if layers == "L_NO_HYPER"}


def test_gendoc_refuses_a_note_for_an_unknown_setting(tmp_path):
    """A note in packaging/configuration.md.in for a setting the binary does
    not have (renamed, removed) stops the build instead of lingering."""
    binary = ROOT / "agent" / "porthole"
    if not binary.is_file():
        pytest.skip("agent/porthole is not built (make)")
    for f in ("gendoc.sh", "porthole.8.in", "configuration.md.in"):
        shutil.copy(ROOT / "packaging" / f, tmp_path / f)
    template = tmp_path / "configuration.md.in"
    template.write_text(template.read_text().replace("@SETTINGS@\n", "@SETTINGS@\n@note PORTHOLE_NO_SUCH x.\n"))
    r = run("sh", str(tmp_path / "gendoc.sh"), str(binary), str(tmp_path / "out"), check=False)
    assert r.returncode != 0 and "PORTHOLE_NO_SUCH" in r.stderr, r.stderr


# ---- the default conf file -----------------------------------------------------


def porthole_config(binary, conf, tmp_path):
    ml = tmp_path / "ml"
    ml.mkdir(exist_ok=True)
    r = run(str(binary), "config", "--json", "--ml-root", str(ml),
            env=clean_env(PORTHOLE_CONFIG=str(conf)), check=False)
    return r, (json.loads(r.stdout) if r.returncode == 0 else None)


def test_conf_as_installed_is_accepted(deb_tree, tmp_path):
    r, cfg = porthole_config(deb_tree / "usr/bin/porthole", deb_tree / "etc/porthole/porthole.conf", tmp_path)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    assert cfg["conf_file"].endswith("etc/porthole/porthole.conf")
    sources = {k: v["source"] for k, v in cfg.items() if k.startswith("PORTHOLE_") and k != "PORTHOLE_ML_ROOT"}
    assert set(sources.values()) == {"default"}, sources


def test_conf_lists_every_setting_at_its_default(deb_tree, tmp_path):
    """Uncommented, every line is accepted and changes nothing."""
    binary = deb_tree / "usr/bin/porthole"
    text = (deb_tree / "etc/porthole/porthole.conf").read_text()
    keys = re.findall(r"^#(PORTHOLE_\w+)=", text, re.M)
    assert sorted(keys) == sorted(f"PORTHOLE_{n}" for n, _ in settings_table())
    live = tmp_path / "live.conf"
    live.write_text(re.sub(r"^#(PORTHOLE_\w+=)", r"\1", text, flags=re.M))
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    r, cfg = porthole_config(binary, live, tmp_path)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    _, defaults = porthole_config(binary, empty, tmp_path)
    for key in keys:
        if key == "PORTHOLE_ML_ROOT":  # given on the command line here
            continue
        assert cfg[key]["source"] == "conf file", (key, cfg[key])
        assert cfg[key]["value"] == defaults[key]["value"], (key, cfg[key], defaults[key])


# ---- systemd units ---------------------------------------------------------------


@pytest.mark.parametrize("tree,unitdir", [("deb_tree", "lib/systemd/system"), ("rpm_tree", "usr/lib/systemd/system")])
def test_units_verify(request, tree, unitdir, tmp_path):
    root = request.getfixturevalue(tree)
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is missing: apt-get install systemd (make deps)")
    # verify wants ExecStart= to exist: point it at the extracted binary.
    for unit in ("porthole.service", "porthole.socket"):
        text = (root / unitdir / unit).read_text()
        assert unit != "porthole.service" or "ExecStart=/usr/bin/porthole serve" in text
        (tmp_path / unit).write_text(text.replace("/usr/bin/porthole", str(root / "usr/bin/porthole")))
    r = run("systemd-analyze", "verify", str(tmp_path / "porthole.service"), str(tmp_path / "porthole.socket"),
            check=False, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_units_match_the_source(deb_tree):
    for unit in ("porthole.service", "porthole.socket"):
        assert (deb_tree / "lib/systemd/system" / unit).read_bytes() == \
            (ROOT / "packaging" / "systemd" / unit).read_bytes(), unit


# ---- the RPM ---------------------------------------------------------------------


def test_rpm_at_fixed_path_too(rpm):
    assert (PKG / "porthole.rpm").read_bytes() == rpm.read_bytes()


def test_rpm_payload_matches_deb(rpm, deb):
    rpm_paths = paths(run("rpm", "-qpl", str(rpm)).stdout.splitlines())
    rpm_paths = {p for p in rpm_paths if not p.startswith("usr/lib/.build-id")}
    deb_files = paths(line.split()[-1] for line in run("dpkg-deb", "-c", str(deb)).stdout.splitlines()
                      if not line.startswith("d"))

    def norm(p):
        p = re.sub(r"^usr/lib/systemd/", "lib/systemd/", p)
        return re.sub(r"\.gz$", "", p) if "/man/" in p else p

    rpm_files = {norm(p) for p in rpm_paths}
    assert PAYLOAD <= rpm_files, f"missing from the RPM: {sorted(PAYLOAD - rpm_files)}"
    assert {norm(p) for p in deb_files} - DEB_ONLY <= rpm_files


def test_rpm_requires(rpm):
    req = run("rpm", "-qpR", str(rpm)).stdout.splitlines()
    req = [r.strip() for r in req]
    assert any(re.fullmatch(r"libssh(\(x86-64\))? >= 0\.10", r) for r in req), req
    assert "libcurl.so.4()(64bit)" in req, req
    assert any(r.startswith("cjson") for r in req), req
    assert any(r.startswith("systemd-libs") for r in req), req
    # found in the ELF header by rpm itself
    assert "libcjson.so.1()(64bit)" in req and "libsystemd.so.0()(64bit)" in req, req


def test_rpm_metadata(rpm):
    q = run("rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{LICENSE}\\n", str(rpm)).stdout.strip()
    assert q == f"porthole {VERSION} Apache-2.0"
    licenses = run("rpm", "-qpL", str(rpm)).stdout.split()
    assert [Path(p).name for p in licenses] == ["LICENSE"], licenses
    assert run("rpm", "-qpc", str(rpm)).stdout.split() == ["/etc/porthole/porthole.conf"]
    scripts = run("rpm", "-qp", "--scripts", str(rpm)).stdout
    assert "enable --now" not in scripts and "restart" not in scripts, scripts


def test_rpmlint_clean(rpm):
    """rpmlint on the binary RPM and the spec: nothing but the findings
    packaging/rpm/porthole.rpmlintrc filters, each with its reason."""
    r = run("rpmlint", "-r", str(ROOT / "packaging/rpm/porthole.rpmlintrc"), str(rpm),
            str(ROOT / "packaging/rpm/porthole.spec"), check=False)
    findings = [l for l in r.stdout.splitlines() if re.search(r": [EW]: ", l)]
    assert r.returncode == 0 and not findings, f"rpmlint exited {r.returncode}:\n{r.stdout}{r.stderr}"
    assert "0 errors, 0 warnings" in r.stdout, r.stdout


def test_rpm_binary_runs(rpm_tree):
    r = run(str(rpm_tree / "usr/bin/porthole"), "--version")
    assert r.stdout.strip() == f"porthole {VERSION}"


def test_source_tarball_builds_rpm_anywhere(built):
    """The tarball `rpmbuild -ta` takes on Amazon Linux: the spec and the
    sources, no build products."""
    with tarfile.open(PKG / f"porthole-{VERSION}.tar.gz") as t:
        names = set(t.getnames())
    top = f"porthole-{VERSION}"
    for p in ("Makefile", "LICENSE", "packaging/rpm/porthole.spec", "packaging/gendoc.sh", "agent/main.c",
              "lifecycle/porthole.sh", "packaging/systemd/porthole.service"):
        assert f"{top}/{p}" in names, p
    assert not any(n.endswith((".o", "/agent/porthole")) or "/build/" in n for n in names)


def test_make_static_links_one_static_pie_file():
    """`make static` (run by make dist-check and static-check) links
    build/static/porthole with -static-pie; the packages stay dynamic."""
    r = run("make", "--no-print-directory", "-C", str(ROOT), "-n", "-W", "agent/main.c", "static", check=False)
    assert r.returncode == 0, r.stderr
    assert "-static-pie" in r.stdout and "build/static/porthole" in r.stdout, r.stdout[-2000:]


