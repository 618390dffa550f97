# SPDX-License-Identifier: Apache-2.0
"""ML_ROOT/output/failure: one line saying why the command failed, written
only when the command did not write a reason of its own."""

import pytest


def run(sb, shell, env=None):
    d = sb.run_cmd(["sh", "-c", shell], env={"PORTHOLE_HOLD": "never", **(env or {})})
    return d, d.wait()


@pytest.mark.parametrize(
    "shell, rc, reason",
    [
        ("exit 3", 3, "training command exited with status 3"),
        ("exit 1", 1, "training command exited with status 1"),
        ("exit 255", 255, "training command exited with status 255"),
        ("kill -KILL $$", 137, "training command killed by SIGKILL"),
        ("kill -TERM $$", 143, "training command killed by SIGTERM"),
        ("kill -SEGV $$", 139, "training command killed by SIGSEGV"),
    ],
    ids=["status-3", "status-1", "status-255", "SIGKILL", "SIGTERM", "SIGSEGV"],
)
def test_failure_reason_written(sb, shell, rc, reason):
    d, got = run(sb, shell)
    assert got == rc, d.describe()
    text = sb.failure_file.read_text()
    # one line; a core dump note after the signal name is acceptable
    assert text.endswith("\n") and text.count("\n") == 1, repr(text)
    line = text.rstrip("\n")
    assert line == reason or line.startswith(reason + " ("), repr(text)


def test_no_failure_file_on_success(sb):
    d, got = run(sb, "exit 0")
    assert got == 0
    assert not sb.failure_file.exists()


def test_no_failure_file_on_success_after_hold(sb):
    d = sb.run_cmd(["sh", "-c", "exit 0"], env={"PORTHOLE_HOLD": "always", "PORTHOLE_WINDOW": "1s"})
    assert d.wait() == 0
    assert not sb.failure_file.exists()


def test_command_written_reason_is_kept(sb):
    mine = "CUDA out of memory at step 1234\nsecond line of detail\n"
    d, got = run(sb, f"printf '{mine}' > {sb.failure_file}; exit 2")
    assert got == 2, d.describe()
    assert sb.failure_file.read_text() == mine.replace("\\n", "\n")


def test_command_written_reason_is_kept_when_killed(sb):
    d, got = run(sb, f"echo 'my own reason' > {sb.failure_file}; kill -KILL $$")
    assert got == 137
    assert sb.failure_file.read_text() == "my own reason\n"


def test_empty_failure_file_is_filled(sb):
    d, got = run(sb, f": > {sb.failure_file}; exit 2")
    assert got == 2, d.describe()
    assert sb.failure_file.read_text() == "training command exited with status 2\n"


def test_output_dir_created_when_missing(sb):
    (sb.ml_root / "output").rmdir()
    d, got = run(sb, "exit 4")
    assert got == 4
    assert sb.failure_file.read_text() == "training command exited with status 4\n"


def test_failure_on_hold_path_too(sb):
    """With a hold after a failure the reason is written as well."""
    d = sb.run_cmd(["sh", "-c", "exit 5"], env={"PORTHOLE_HOLD": "on-failure", "PORTHOLE_WINDOW": "5m"})
    sb.wait_state("holding")
    sb.cli_ok("release")
    assert d.wait() == 5
    assert sb.failure_file.read_text() == "training command exited with status 5\n"


def test_failure_reason_for_missing_command_names_it(sb):
    d = sb.run_cmd(["no-such-train-cmd"], env={"PORTHOLE_HOLD": "never"})
    assert d.wait() == 127
    text = sb.failure_file.read_text()
    assert text.count("\n") == 1 and "no-such-train-cmd" in text, repr(text)
