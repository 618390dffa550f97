# SPDX-License-Identifier: Apache-2.0
"""porthole started through CreateTrainingJob's ContainerEntrypoint.

W&B Launch (for code and artifact jobs, or any overridden entry point) and
other CreateTrainingJob callers set AlgorithmSpecification.ContainerEntrypoint
and ContainerArguments.  They replace the image's ENTRYPOINT and CMD, and the
container's PID 1 is ContainerEntrypoint + ContainerArguments, exec'ed with
argv[0] looked up on PATH and settings in the job's Environment.  These tests
exec exactly that command line as PID 1 of a new PID namespace.
"""

import json

import pytest

from porthole_harness import PYTHON

# What a training script receives is compared with what the caller sent,
# so the script only records its view of the world.
TRAIN_PY = """\
import json, os, sys
out = os.path.join(os.environ["PORTHOLE_ML_ROOT"], "output", "seen.json")
with open(out, "w") as f:
    json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "pid": os.getpid(),
               "ppid": os.getppid(), "wandb": os.environ.get("WANDB_RUN_ID")}, f)
sys.exit(int(os.environ.get("TRAIN_EXIT", "0")))
"""


@pytest.fixture
def code_dir(sb):
    d = sb.root / "code"
    d.mkdir()
    (d / "train.py").write_text(TRAIN_PY)
    return d


def seen(sb):
    return json.loads((sb.ml_root / "output" / "seen.json").read_text())


def job_argv(entrypoint, arguments):
    """The container's argv for a CreateTrainingJob AlgorithmSpecification."""
    return list(entrypoint) + list(arguments)


@pytest.mark.usefixtures("need_unshare")
def test_arguments_reach_the_command_unchanged(sb, code_dir):
    entry = ["porthole", "run", "--", PYTHON, "train.py"]
    # Arguments a launcher passes through: flags, '=' forms, a literal '--',
    # spaces, an empty string and shell metacharacters, none interpreted.
    args = ["--epochs", "2", "--lr=0.1", "--", "two words", "", "$HOME;*", "-x"]
    d = sb.start_container(job_argv(entry, args), env={"PORTHOLE_HOLD": "never", "WANDB_RUN_ID": "run-7"},
                           cwd=str(code_dir))
    assert d.ready["pid"] == 1
    assert d.wait() == 0
    s = seen(sb)
    assert s["argv"] == args
    assert s["cwd"] == str(code_dir)
    # The command is porthole's child, porthole being PID 1.
    assert s["ppid"] == 1 and s["pid"] != 1
    # The job's Environment (W&B's injected variables among them) reaches the command.
    assert s["wandb"] == "run-7"


@pytest.mark.usefixtures("need_unshare")
def test_environment_settings_apply_and_failure_is_reported(sb, code_dir):
    """Settings come from the job's Environment (Launch's queue config puts
    them there); the command's exit code is the container's."""
    entry = ["porthole", "run", "--", PYTHON, "train.py"]
    d = sb.start_container(job_argv(entry, ["--fail"]),
                           env={"PORTHOLE_HOLD": "never", "PORTHOLE_WINDOW": "5m", "TRAIN_EXIT": "3"},
                           cwd=str(code_dir))
    assert d.ready["hold"] == "never"
    assert d.ready["window_s"] == 300
    assert d.wait() == 3
    assert seen(sb)["argv"] == ["--fail"]
    assert "training command exited with status 3" in sb.failure_file.read_text()


@pytest.mark.usefixtures("need_unshare")
def test_entrypoint_through_a_shell(sb, code_dir):
    """ContainerEntrypoint ["porthole","run","--","sh","-c","…"]: the shell
    runs under porthole and its status is returned."""
    entry = ["porthole", "run", "--", "sh", "-c", f'exec {PYTHON} train.py "$@"', "sh"]
    d = sb.start_container(job_argv(entry, ["a", "b c"]), env={"PORTHOLE_HOLD": "never", "TRAIN_EXIT": "0"},
                           cwd=str(code_dir))
    assert d.wait() == 0
    assert seen(sb)["argv"] == ["a", "b c"]


@pytest.mark.usefixtures("need_unshare")
def test_misspelt_setting_does_not_stop_training(sb, code_dir):
    """A misspelt setting in the job's Environment is reported, and the
    training still runs with its exit code returned."""
    entry = ["porthole", "run", "--", PYTHON, "train.py"]
    d = sb.start_container(job_argv(entry, []), env={"PORTHOLE_HOLD": "never", "PORTHOLE_HOLDD": "always"},
                           cwd=str(code_dir))
    assert d.wait() == 0
    assert any("PORTHOLE_HOLDD" in line for line in d.error_lines()), d.describe()
    assert seen(sb)["argv"] == []
