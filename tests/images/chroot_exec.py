#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Become an image's container process: run by imagerun.py under
`unshare --pid --fork --mount`, so this process is PID 1 of a new PID
namespace with a private mount namespace.  It mounts what a container runtime
would (proc, dev, a fresh /run, /opt/ml from the host), chroots into the
image's root, changes to its WorkingDir and execs ENTRYPOINT+CMD with the
environment it was given, so the image's own PID 1 is the ENTRYPOINT.

    chroot_exec.py ROOTFS ML_DIR WORKDIR -- ARGV...

The mounts disappear with the mount namespace when the last process in it
ends; nothing is unmounted by hand.
"""

import os
import subprocess
import sys


def mount(*args):
    subprocess.run(["mount", *args], check=True)


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        print("usage: chroot_exec.py ROOTFS ML_DIR WORKDIR -- ARGV...", file=sys.stderr)
        return 2
    root, ml, workdir, argv = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5:]
    # Nothing mounted here may leak to the host's namespace.
    mount("--make-rprivate", "/")
    mount("-t", "proc", "proc", os.path.join(root, "proc"))
    mount("--rbind", "/dev", os.path.join(root, "dev"))
    mount("-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", os.path.join(root, "run"))
    os.makedirs(os.path.join(root, "opt", "ml"), exist_ok=True)
    mount("--bind", ml, os.path.join(root, "opt", "ml"))
    os.chroot(root)
    os.chdir(workdir or "/")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, os.environ)
    except OSError as e:
        print(f"chroot_exec.py: cannot exec {argv[0]}: {e}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
