# SPDX-License-Identifier: Apache-2.0
"""The Dockerfiles of dockerfiles/, built with podman from a debootstrap base
and run as SageMaker would (`docker run IMAGE train`) without a container
runtime: ENTRYPOINT+CMD from the image's config as PID 1 in a PID namespace,
chrooted into the image, a fake /opt/ml, and a login with the real OpenSSH
client against the host key porthole published.

The images are built once per session (conftest.py); each test runs a fresh
writable copy of one.
"""

import json
import random
import shlex

from imagerun import ImageRun, fake_ml, pub, wait_for
from podman_store import REPO

ENTRYPOINT = ["porthole", "run", "--"]


def iris_like(n_per_class=20, seed=7):
    """CSV text in the DIY recipe's layout: label first, then features."""
    rnd = random.Random(seed)
    centers = {"setosa": (5.0, 3.4, 1.5, 0.2), "versicolor": (5.9, 2.8, 4.3, 1.3), "virginica": (6.6, 3.0, 5.6, 2.0)}
    lines = []
    for label, c in centers.items():
        for _ in range(n_per_class):
            lines.append(",".join([label] + [f"{v + rnd.gauss(0, 0.15):.2f}" for v in c]))
    rnd.shuffle(lines)
    return "\n".join(lines) + "\n"


def start(store, runs, tmp_path, image, hyperparameters=None, data=None, env=None, **kw):
    ml = fake_ml(tmp_path, hyperparameters, data)
    e = {"PORTHOLE_CLOUDWATCH": "off", "PORTHOLE_SSH": "off"}
    e.update(env or {})
    r = ImageRun(store, image, ml, env=e, **kw)
    runs.append(r)
    return r.start()


# ---- dockerfiles/debian -------------------------------------------------------


def test_debian_image_config_and_layers(store, debian_image):
    cfg = store.config(debian_image)
    assert cfg.get("Entrypoint") == ENTRYPOINT
    assert cfg.get("Cmd") == ["train"]
    base_layers = store.layer_count("localhost/porthole-test-base:bookworm")
    added = store.layers(debian_image)[base_layers:]
    # runtime libraries (one RUN), then porthole in one COPY layer
    assert len(added) == 2, added
    assert added[-1]["created_by"].startswith("/bin/sh -c #(nop) COPY"), added
    assert added[-1]["size"] < 2 * 1024 * 1024, f"porthole's layer is {added[-1]['size']} bytes"


def test_debian_image_has_porthole_and_no_build_or_openssh(store, debian_image):
    cid, root = store.rootfs(debian_image)
    try:
        assert (root / "usr/bin/porthole").is_file()
        assert (root / "usr/share/porthole/porthole.sh").is_file()
        with open(root / "usr/bin/porthole", "rb") as f:
            assert f.read(4) == b"\x7fELF"
        for absent in ("usr/sbin/sshd", "usr/bin/ssh", "usr/lib/openssh/sftp-server", "usr/bin/gcc", "usr/bin/make",
                       "usr/include/libssh", "src", "opt/ml", "var/lib/apt/lists/lock"):
            assert not (root / absent).exists(), f"/{absent} is in the image"
        assert not list((root / "var/lib/apt/lists").glob("*_Packages*")), "apt lists left in the image"
        assert not list((root / "var/cache/apt/archives").glob("*.deb")), ".debs left in the image"
    finally:
        store.drop_rootfs(cid)


def test_debian_image_without_train_fails_the_sagemaker_way(store, runs, tmp_path, debian_image):
    """The bare image has no `train`: porthole says so, exits 127 and writes
    /opt/ml/output/failure, which DescribeTrainingJob would show."""
    r = start(store, runs, tmp_path, debian_image, env={"PORTHOLE_HOLD": "never"})
    assert r.argv == ENTRYPOINT + ["train"]
    rc = r.wait()
    assert rc == 127, r.describe()
    failure = (r.ml / "output" / "failure").read_text()
    assert "train" in failure, failure
    assert "ready" in r.stderr, r.describe()


# ---- dockerfiles/static -------------------------------------------------------------


def test_static_image_holds_only_the_binary(store, static_image):
    layers = store.layers(static_image)
    assert len(layers) == 1, layers
    cid, root = store.rootfs(static_image)
    try:
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())
        assert files == ["porthole"], files
        with open(root / "porthole", "rb") as f:
            assert f.read(4) == b"\x7fELF"
    finally:
        store.drop_rootfs(cid)
    assert store.config(static_image).get("Entrypoint") == ["/porthole"]


def test_static_copied_into_an_image_runs_and_takes_a_login(store, runs, tmp_path, static_user_image, client_key):
    """The README's first Dockerfile: COPY --from the static image into an
    image that has none of porthole's libraries, and log in."""
    cid, root = store.rootfs(static_user_image)
    try:
        assert not list(root.glob("usr/lib/x86_64-linux-gnu/libssh.so*")), "the base has libssh"
    finally:
        store.drop_rootfs(cid)
    r = start(store, runs, tmp_path, static_user_image,
              env={"PORTHOLE_SSH": "embedded", "PORTHOLE_SSH_PORT": "0", "PORTHOLE_SSH_LISTEN": "127.0.0.1",
                   "PORTHOLE_AUTHORIZED_KEYS": pub(client_key), "PORTHOLE_HOLD": "on-failure",
                   "PORTHOLE_WINDOW": "10m"})
    ready = r.wait_ready()
    assert ready.get("host") == "algo-1", ready
    r.ssh_setup(client_key)
    wait_for(lambda: "static-training-ran" in r.stdout, what="the training command's output")
    s = r.ssh("tr '\\0' ' ' </proc/1/cmdline; . /etc/os-release; echo; echo $VERSION_CODENAME")
    assert s.returncode == 0, f"{s.stderr}\n{r.describe()}"
    cmdline, codename = s.stdout.splitlines()[:2]
    assert cmdline.split()[:3] == ENTRYPOINT, cmdline
    assert codename == "bookworm", codename
    rel = r.ssh("porthole", "release")
    assert rel.returncode == 0, rel.stderr
    assert r.wait() == 3, r.describe()


# ---- dockerfiles/example-python ---------------------------------------------------


def test_example_trains_holds_and_takes_an_ssh_login(store, runs, tmp_path, example_image, client_key):
    r = start(store, runs, tmp_path, example_image,
              hyperparameters={"max_rows": "50", "channel": "training", "pause_at": "after-load"},
              data={"training": {"iris.csv": iris_like()}},
              env={"PORTHOLE_SSH": "embedded", "PORTHOLE_SSH_PORT": "0", "PORTHOLE_SSH_LISTEN": "127.0.0.1",
                   "PORTHOLE_AUTHORIZED_KEYS": pub(client_key), "PORTHOLE_HOLD": "always",
                   "PORTHOLE_WINDOW": "10m"})
    assert r.argv == ENTRYPOINT + ["train"]
    ready = r.wait_ready()
    assert ready.get("host") == "algo-1", ready
    r.ssh_setup(client_key)

    # train stops at its breakpoint; look around, then let it go on.
    model = r.ml / "model" / "model.json"
    wait_for(lambda: "train: 50 rows" in r.stdout, what="train to load its data")

    def at_breakpoint():
        st = r.ssh("porthole", "status", "--json")
        return st.returncode == 0 and "after-load" in st.stdout
    wait_for(at_breakpoint, what="the after-load breakpoint in porthole status", interval=0.5)
    assert not model.exists()
    c = r.ssh("porthole", "continue", "after-load")
    assert c.returncode == 0, c.stderr
    wait_for(model.exists, what="model.json from train")

    # A command inside the image, with the training environment.
    # (ssh sends one command line; the login shell in the image parses it)
    s = r.ssh(". /etc/os-release && echo $VERSION_CODENAME && echo $PATH && tr '\\0' ' ' </proc/1/cmdline")
    assert s.returncode == 0, f"{s.stderr}\n{r.describe()}"
    codename, path, cmdline = s.stdout.splitlines()[:3]
    assert codename == "bookworm"
    assert path.startswith("/opt/program:"), path
    assert cmdline.split()[:4] == ENTRYPOINT + ["train"], cmdline

    s = r.ssh("python3 -c " + shlex.quote("import json; m = json.load(open('/opt/ml/model/model.json')); "
                                          "print(m['rows'], sorted(m['centroids']), m['train_accuracy'] > 0.9)"))
    assert s.returncode == 0, s.stderr
    assert s.stdout.split("\n")[0] == "50 ['setosa', 'versicolor', 'virginica'] True", s.stdout

    # The image has no sftp-server: porthole's own answers.
    got = tmp_path / "model-copy.json"
    s = r.sftp(f"get /opt/ml/model/model.json {got}\n")
    assert s.returncode == 0, s.stderr
    assert json.loads(got.read_text())["rows"] == 50

    def holding():  # train has ended (0) and PORTHOLE_HOLD=always keeps the container
        st = r.ssh("porthole", "status", "--json")
        return st.returncode == 0 and json.loads(st.stdout).get("state") == "holding"
    wait_for(holding, what="porthole status: holding", interval=0.5)

    # Released from inside the container: porthole (PID 1) ends, and the
    # namespace with it, but only after this session's exit status is out.
    rel = r.ssh("porthole", "release")
    assert rel.returncode == 0, (rel.returncode, rel.stderr)
    assert r.wait() == 0, r.describe()
    assert not (r.ml / "output" / "failure").exists()
    assert "train: 50 rows from channel 'training'" in r.stdout, r.describe()


def test_example_failure_keeps_trains_own_failure_file(store, runs, tmp_path, example_image):
    """No data in the channel: train writes its own failure file and exits
    255; porthole returns 255 and leaves the file alone."""
    r = start(store, runs, tmp_path, example_image, data={"training": {}}, env={"PORTHOLE_HOLD": "never"})
    assert r.wait() == 255, r.describe()
    failure = (r.ml / "output" / "failure").read_text()
    assert failure.startswith("Exception during training: no training data"), failure


def test_example_under_container_entrypoint(store, runs, tmp_path, example_image):
    """A job that sets ContainerEntrypoint replaces the image's ENTRYPOINT;
    with porthole in front of it the run behaves the same.  SageMaker passes
    ContainerEntrypoint + ContainerArguments; here no arguments, so no CMD."""
    r = start(store, runs, tmp_path, example_image, data={"training": {"a.csv": iris_like(3)}},
              entrypoint=["porthole", "run", "--", "python3", "/opt/program/train"], cmd=[],
              env={"PORTHOLE_HOLD": "never"})
    assert r.wait() == 0, r.describe()
    assert json.loads((r.ml / "model" / "model.json").read_text())["rows"] == 9


# ---- dockerfiles/al2023 (plumbing only) ------------------------------------------

FAKE_DNF = r"""#!/bin/sh
# Stands in for dnf in the al2023 plumbing test: records its arguments and
# the contents of each RPM file it is given.
echo "dnf $*" >>/var/log/fake-dnf.log
for a in "$@"; do
	case $a in
	*.rpm)
		[ -f "$a" ] || { echo "fake dnf: no file $a" >&2; exit 1; }
		echo "rpm $a: $(cat "$a")" >>/var/log/fake-dnf.log ;;
	esac
done
"""


def test_al2023_dockerfile_plumbing_with_a_fake_dnf(store, base, tmp_path):
    """Amazon Linux cannot be built here.  What can be: the Dockerfile's own
    plumbing, on the Debian base with a `dnf` that only records what it is
    asked: the RPM reaches dnf through the bind mount, under the name
    PORTHOLE_RPM gives, and no layer keeps a copy of it."""
    ctx = tmp_path / "fake-dnf"
    ctx.mkdir()
    (ctx / "dnf").write_text(FAKE_DNF)
    (ctx / "dnf").chmod(0o755)
    (ctx / "Containerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY dnf /usr/local/bin/dnf\n")
    fake = store.build("localhost/porthole-test:fake-dnf", ctx / "Containerfile", ctx, {"BASE_IMAGE": base})
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    rpm = "porthole-0.1.0-1.amzn2023.x86_64.rpm"
    (pkg / rpm).write_text("not really an RPM")
    image = store.build("localhost/porthole-test:al2023-plumbing", REPO / "dockerfiles" / "al2023" / "Dockerfile",
                        pkg, {"BASE_IMAGE": fake, "PORTHOLE_RPM": rpm})
    try:
        cfg = store.config(image)
        assert cfg.get("Entrypoint") == ENTRYPOINT and cfg.get("Cmd") == ["train"], cfg
        assert len(store.layers(image)) == len(store.layers(fake)) + 1  # the one RUN
        cid, root = store.rootfs(image)
        try:
            log = (root / "var/log/fake-dnf.log").read_text().splitlines()
            assert log == [f"dnf install -y --setopt=install_weak_deps=False /tmp/porthole-pkg/{rpm}",
                           f"rpm /tmp/porthole-pkg/{rpm}: not really an RPM",
                           "dnf clean all"], log
            left = [str(p) for p in root.rglob("*.rpm")]
            assert not left, f"RPM copies left in the image: {left}"
        finally:
            store.drop_rootfs(cid)
    finally:
        store.rmi(image)
        store.rmi(fake)
