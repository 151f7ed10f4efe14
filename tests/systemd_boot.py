"""systemd as PID 1 in namespaces of its own, to run jackrec's real units.

The machine's PID 1 is not systemd, but as root `unshare` gives systemd 252
what it needs to boot in a container: new PID, mount, cgroup, UTS and IPC
namespaces, a cgroup2 hierarchy rooted in a cgroup of the test's own, and
private copies of what a boot writes.  Nothing reaches the host:

- ``/run``, ``/tmp``, ``/var/tmp`` and ``/dev/shm`` are new tmpfs (so JACK's
  registry is private too), ``/etc``, ``/var`` and ``/home`` are overlays whose
  changes live in that ``/run``, ``/dev/console`` is a file there, and
  ``/sys`` and ``/proc/sys`` are read-only;
- ``container=`` tells systemd it is in a container (it loads no kernel
  modules), and every unit of ``sysinit.target`` but the journal is masked
  (sysctl, tmpfiles, udev, module loading, ...); the default target is an
  empty one.

Stopping it (SIGRTMIN+4: power off) ends the namespaces and everything in
them; the test's cgroup is removed.  `BootedSystemd.start` raises
`Unavailable` with the reason when this machine cannot do it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

SYSTEMD = Path("/lib/systemd/systemd")
#: The units of sysinit.target, masked: they would touch the host (sysctl,
#: device nodes, modules) or are of no use here.
SYSINIT_WANTS = (
    "/lib/systemd/system/sysinit.target.wants",
    "/etc/systemd/system/sysinit.target.wants",
)
#: The environment of commands run inside: none of the test's (XDG_CONFIG_HOME, ...).
CLEAN_ENVIRONMENT = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
EXTRA_MASKED = ("systemd-udevd.service", "systemd-udev-trigger.service", "timers.target")

INNER = """
set -eu
mount -t tmpfs -o mode=755 tmpfs /run
for d in etc var home; do
    mkdir -p /run/overlay/$d/upper /run/overlay/$d/work
    mount -t overlay overlay \\
        -o lowerdir=/$d,upperdir=/run/overlay/$d/upper,workdir=/run/overlay/$d/work /$d
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
touch /run/console.log
mount --bind /run/console.log /dev/console
umount -l /sys/fs/cgroup
mount -o remount,bind,ro /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mkdir -p /run/systemd/system
for path in {wants} {extra}; do
    unit=${{path##*/}}
    case $unit in '*' | systemd-journald*) ;; *) ln -sf /dev/null /run/systemd/system/$unit ;; esac
done
cat > /run/systemd/system/test.target <<END
[Unit]
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald.service
END
exec env -i container=jackrec-test PATH="$PATH" \\
    {systemd} --system --unit=test.target --log-target=console
"""


class Unavailable(Exception):
    """systemd cannot run as PID 1 here (the message says why)."""


def _cgroup2_parent() -> Path:
    """This process's cgroup in the cgroup2 hierarchy, where the test's goes."""
    mounts = [
        line.split(" - ")[0].split()[4]
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        if line.split(" - ")[1].startswith("cgroup2 ")
    ]
    if not mounts:
        raise Unavailable("no cgroup2 hierarchy is mounted")
    own = next(
        line[3:] for line in Path("/proc/self/cgroup").read_text().splitlines() if line[:3] == "0::"
    )
    return Path(mounts[0]) / own.lstrip("/")


class BootedSystemd:
    """systemd as PID 1 of a PID namespace; `run` executes inside all its namespaces."""

    def __init__(self, name: str) -> None:
        self.cgroup = _cgroup2_parent() / name
        self.process: subprocess.Popen[bytes] | None = None
        self.pid = 0  # systemd's PID on the host

    def start(self, timeout: float = 60.0) -> BootedSystemd:
        for tool in ("unshare", "nsenter"):
            if shutil.which(tool) is None:
                raise Unavailable(f"{tool} is not installed")
        if os.geteuid() != 0:
            raise Unavailable("booting systemd in namespaces needs root")
        if not SYSTEMD.exists():
            raise Unavailable(f"{SYSTEMD} is not installed")
        try:
            self.cgroup.mkdir(exist_ok=True)
        except OSError as error:
            raise Unavailable(f"cannot create the cgroup {self.cgroup}: {error}") from None
        inner = INNER.format(
            wants=" ".join(f"{path}/*" for path in SYSINIT_WANTS),
            extra=" ".join(EXTRA_MASKED),
            systemd=SYSTEMD,
        )
        self.process = subprocess.Popen(
            [
                "sh",
                "-c",
                'echo $$ > "$1/cgroup.procs" && exec unshare --pid --fork --mount --cgroup '
                '--uts --ipc --mount-proc sh -c "$2"',
                "boot",
                str(self.cgroup),
                inner,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=CLEAN_ENVIRONMENT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.pid:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                self.stop()
                raise Unavailable(f"systemd did not boot: {output.strip()[-500:]}")
            self.pid = self._systemd_pid()
            time.sleep(0.05)
        if not self.pid:
            self.stop()
            raise Unavailable("systemd did not start in time")
        state = ""  # `is-system-running --wait` needs D-Bus, which is not there: poll
        while time.monotonic() < deadline and state not in ("running", "degraded"):
            time.sleep(0.1)
            state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
        if state not in ("running", "degraded"):
            self.stop()
            raise Unavailable(f"systemd did not come up (is-system-running: {state!r})")
        return self

    def _systemd_pid(self) -> int:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):  # not forked yet, or gone
            pids = children.read_text().split()
            if pids and Path(f"/proc/{pids[0]}/comm").read_text().strip() == "systemd":
                return int(pids[0])
        return 0

    def run(
        self, *command: str, input: str | None = None, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` inside systemd's namespaces (as root)."""
        result = subprocess.run(
            ["nsenter", "-t", str(self.pid), "-a", *command],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=CLEAN_ENVIRONMENT,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{shlex.join(command)}: {result.stdout}{result.stderr}")
        return result

    def write(self, path: str, text: str, mode: str = "644") -> None:
        """Create a file inside the namespaces (their /etc, /var and /run are private)."""
        self.run(
            "sh",
            "-c",
            f'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod {mode} "$1"',
            "write",
            path,
            input=text,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Power off; kill the namespace if that does not end it; remove the cgroup."""
        if self.process is not None:
            if self.pid:
                os.kill(self.pid, signal.SIGRTMIN + 4)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                if self.pid:
                    os.kill(self.pid, signal.SIGKILL)  # ends every process of the namespace
                self.process.wait(timeout)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None
        deadline = time.monotonic() + timeout
        while self.cgroup.exists():  # empty once the namespace's processes are gone
            for directory, _, _ in os.walk(self.cgroup, topdown=False):
                with contextlib.suppress(OSError):
                    os.rmdir(directory)
            if self.cgroup.exists():
                assert time.monotonic() < deadline, f"cannot remove {self.cgroup}"
                time.sleep(0.1)
