"""jackrec's real units under the real systemd: PID 1 in namespaces of its own.

systemd (252 here) boots in new namespaces (`tests.systemd_boot`).  The
units are installed there by ``systemd/install-service.sh`` (so the system
template's user comes from ``systemd/jackrec.sysusers``); a ``jackd -d
dummy`` and the counter client run as the service's user (JACK servers are
per user), and the service runs with every line of its hardening.  A
service cannot see home directories (``ProtectHome=``), where the dev venv's
Python may live, so the units run this checkout on the system's Python of
the same version.
"""

from __future__ import annotations

import shlex
import shutil
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jackrec.counter import check_file
from jackrec.jackserver import DummyServer
from tests.conftest import CHECKOUT, PERIOD, RATE, SERVER_PREFIX, server_name
from tests.systemd_boot import BootedSystemd, Unavailable

SYSTEM_PYTHON = Path("/usr/bin/python3")
#: Where the units find this checkout's packages, on the system's Python.
PYTHONPATH = f"{CHECKOUT}:{sysconfig.get_paths()['purelib']}"
#: The jackrec the units run, inside the namespaces.
JACKREC = "/run/jackrec-test/jackrec"
INSTALLER = CHECKOUT / "systemd/install-service.sh"
CHANNELS = 4
SECONDS = 2
#: SIGTERM finalizes within 2 s; systemctl and the namespaces add their part.
STOP_SECONDS = 4.0
USER = "jrtest"  # the user unit's user, a user of the namespaces only


def system_python_problem() -> str | None:
    """Why the service's user cannot run this checkout, or None."""
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not SYSTEM_PYTHON.resolve().name.endswith(version):
        return f"{SYSTEM_PYTHON} is not Python {version}, the venv's"
    for path in (CHECKOUT, Path(sys.prefix)):
        resolved = path.resolve()
        if resolved.parts[1] in ("home", "root"):
            return f"{path} is in a home directory, hidden from the service (ProtectHome=)"
        if resolved.parts[1] == "tmp" or resolved.is_relative_to("/var/tmp"):
            return f"{path} is in /tmp, hidden from the service (PrivateTmp=) and the booted system"
    return None


@dataclass
class Manager:
    """A service manager in the namespaces: PID 1, or a user's (`user`)."""

    systemd: BootedSystemd
    user: str | None = None

    def systemctl(self, *args: str, check: bool = True) -> str:
        prefix = [
            "runuser",
            "-u",
            self.user,
            "--",
            "sh",
            "-c",
            'XDG_RUNTIME_DIR=/run/user/$(id -u) "$@"',
            "-",
        ]
        scope = [*prefix, "systemctl", "--user"] if self.user else ["systemctl"]
        return self.systemd.run(*scope, *args, check=check).stdout.strip()

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        output = self.systemctl("show", unit, "-p", ",".join(properties))
        return dict(line.split("=", 1) for line in output.splitlines())

    def wait_for(self, unit: str, states: tuple[str, ...], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            state = self.systemctl("is-active", unit, check=False)
            if state in states or time.monotonic() > deadline:
                return state
            time.sleep(0.2)

    def journal(self) -> str:
        return self.systemd.run("journalctl", "--no-pager", "-n", "60").stdout

    def start_jackd_and_counter(self, server: str, user: str) -> None:
        """A synchronous dummy jackd and the counter client, as `user` (system units)."""
        jackd = DummyServer(server, rate=RATE, period=PERIOD, synchronous=True).command
        jackd[0] = shutil.which("jackd") or "/usr/bin/jackd"
        self.systemd.write(
            f"/etc/systemd/system/jackd-{user}.service",
            f"[Unit]\nDefaultDependencies=no\n[Service]\nUser={user}\n"
            f"ExecStart={shlex.join(jackd)}\n",
        )
        self.systemd.write(
            f"/etc/systemd/system/counter-{user}.service",
            f"[Unit]\nDefaultDependencies=no\nRequires=jackd-{user}.service\n"
            f"After=jackd-{user}.service\n[Service]\nUser={user}\n"
            f"ExecStartPre=/usr/bin/jack_wait -s {server} -w -t 10\n"
            f"ExecStart={JACKREC} demo-source -c {CHANNELS} --signal counter --name counter "
            f"--server {server}\n",
        )
        self.systemctl("daemon-reload")
        self.systemctl("start", f"counter-{user}.service")

    def serve(self, unit: str, socket: str | None = None) -> float:
        """Start `unit` (jackrec serve), let it record, reload it, stop it.

        With `socket`, the service must be listening there.  Returns how
        long the stop took.
        """
        self.systemctl("start", unit)  # returns at READY=1: recording
        assert self.show(unit, "ActiveState")["ActiveState"] == "active", self.journal()
        if socket is not None:
            self.systemd.run("test", "-S", socket)
        deadline = time.monotonic() + SECONDS + 3  # a STATUS= every 2 s
        while not (status := self.show(unit, "StatusText")["StatusText"]).startswith("recording"):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        time.sleep(SECONDS)
        self.systemctl("reload", unit)
        assert self.wait_for(unit, ("active",), 10) == "active", self.journal()
        started = time.monotonic()
        self.systemctl("stop", unit)
        stopped = time.monotonic() - started
        assert self.show(unit, "Result")["Result"] == "success", self.journal()
        return stopped

    def record(self, unit: str, unit_dir: str, server: str, take: str) -> tuple[str, str]:
        """Run `unit` with ``jackrec record`` in its ExecStart (a drop-in), to its end.

        Returns its result and its journal's last lines.
        """
        self.systemd.write(
            f"{unit_dir}/{unit}.d/record.conf",
            "[Service]\nType=exec\nRestart=no\nExecStart=\n"
            f"ExecStart={JACKREC} record --server {server} -c {CHANNELS} -p counter:out_* "
            f"--duration {SECONDS} {take}\n",
        )
        if self.user:
            self.systemd.run("chown", "-R", f"{self.user}:", unit_dir)
        self.systemctl("daemon-reload")
        self.systemctl("start", unit)
        self.wait_for(unit, ("inactive", "failed"))
        return self.show(unit, "Result")["Result"], self.journal()


@pytest.fixture(scope="module")
def systemd() -> Iterator[BootedSystemd]:
    """systemd as PID 1, with this checkout's jackrec in reach of every user."""
    problem = system_python_problem()
    if problem:
        pytest.skip(problem)
    booted = BootedSystemd(f"jackrec-systemd-{SERVER_PREFIX}")
    try:
        booted.start()
    except Unavailable as error:
        pytest.skip(f"systemd cannot run as PID 1 here: {error}")
    try:
        booted.write(
            JACKREC,
            f'#!/bin/sh\nPYTHONPATH={PYTHONPATH} exec {SYSTEM_PYTHON} -m jackrec "$@"\n',
            mode="755",
        )
        yield booted
    finally:
        booted.stop()


def read_take(systemd: BootedSystemd, path: str, seconds: float | None = SECONDS) -> None:
    """The take, read through the namespaces' root: every counter frame, in order."""
    report = check_file(Path(f"/proc/{systemd.pid}/root{path}"))
    assert report.exact, report
    if seconds is None:
        assert report.frames > 0
    else:
        assert report.frames == seconds * RATE, report


def settings(directory: str, server: str, socket: str | None = None) -> str:
    """A settings file: the counter's channels, into `directory`, from start-up."""
    return (
        f'directory = "{directory}"\nports = ["counter:out_*"]\nchannels = {CHANNELS}\n'
        f'[service]\nserver = "{server}"\nstart = "now"\n'
        + (f'socket = "{socket}"\n' if socket else "")
    )


def only_take(systemd: BootedSystemd, directory: str) -> str:
    takes = list(Path(f"/proc/{systemd.pid}/root{directory}").glob("*.wav"))
    assert len(takes) == 1, takes
    return f"{directory}/{takes[0].name}"


def test_the_system_template_serves(systemd: BootedSystemd) -> None:
    """Installed by SYSTEM=1, hardened, /dev/shm shared with the jackrec user's jackd:
    jackrec@test starts (READY), says how it records (STATUS), reloads, stops in
    time, and its take is the counter, gapless."""
    systemd.run("env", "SYSTEM=1", f"JACKREC={JACKREC}", "sh", str(INSTALLER), "install")
    manager = Manager(systemd)
    server = server_name("systemd")
    manager.start_jackd_and_counter(server, "jackrec")
    recordings = "/var/lib/jackrec/test"  # jackrec@test's StateDirectory=
    # No $XDG_RUNTIME_DIR for a system service: the socket goes in its
    # RuntimeDirectory=, named after the settings file.
    systemd.write("/etc/jackrec/test.toml", settings(recordings, server))
    manager.systemctl("daemon-reload")
    assert manager.serve("jackrec@test.service", socket="/run/jackrec/test.sock") < STOP_SECONDS
    read_take(systemd, only_take(systemd, recordings), seconds=None)


def test_the_user_unit_serves_into_home_and_writes_nowhere_else(systemd: BootedSystemd) -> None:
    """Installed by the user, run by the user's manager (PrivateUsers=yes): it
    serves as the template does; the rest of the home is read-only to it."""
    home = f"/home/{USER}"
    systemd.write("/etc/sysusers.d/jrtest.conf", f'u {USER} - "jackrec test" {home}\n')
    systemd.run("systemd-sysusers")
    systemd.run("install", "-d", "-o", USER, home)
    systemd.run("systemctl", "start", "dbus.socket")  # user-runtime-dir@ asks logind over D-Bus
    uid = systemd.run("id", "-u", USER).stdout.strip()
    systemd.run("systemctl", "start", f"user@{uid}.service")
    server = server_name("systemd-user")
    Manager(systemd).start_jackd_and_counter(server, USER)
    systemd.run(
        "runuser",
        "-u",
        USER,
        "--",
        "env",
        f"HOME={home}",
        f"JACKREC={JACKREC}",
        "sh",
        str(INSTALLER),
        "install",
    )
    manager = Manager(systemd, USER)
    systemd.write(f"{home}/.config/jackrec/config.toml", settings("~/jackrec", server))
    systemd.run("chown", "-R", f"{USER}:", f"{home}/.config")
    manager.systemctl("daemon-reload")
    assert manager.serve("jackrec.service") < STOP_SECONDS
    read_take(systemd, only_take(systemd, f"{home}/jackrec"), seconds=None)
    unit_dir = f"{home}/.config/systemd/user"
    systemd.run("install", "-d", "-o", USER, f"{home}/elsewhere")
    result, journal = manager.record(
        "jackrec.service", unit_dir, server, f"{home}/elsewhere/take.wav"
    )
    assert result == "exit-code" and "Read-only file system" in journal


#: A service in a few lines: a reload lasts RELOAD_SECONDS, with the watchdog
#: fed all along (systemd keeps counting it while the unit reloads).
RELOAD_SECONDS = 1.0
NOTIFY_PROBE = f"""
import signal, sys, time
from jackrec.sdnotify import Notifier
notifier, stop, reload_ends, stall = Notifier(), [], [], sys.argv[1] == "stall"
def reload(*_):
    notifier.reloading()
    reload_ends.append(time.monotonic() + {RELOAD_SECONDS})
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
signal.signal(signal.SIGHUP, reload)
notifier.status(f"watchdog {{notifier.watchdog_interval()}}")
notifier.ready()
while not stop:
    if not stall:
        notifier.watchdog()
    if reload_ends and time.monotonic() > reload_ends[0]:
        reload_ends.clear()
        notifier.ready()
    time.sleep(0.1)
notifier.stopping()
"""


@pytest.mark.parametrize("behaviour", ["steady", "stall"])
def test_the_notifier_under_systemd(systemd: BootedSystemd, behaviour: str) -> None:
    """READY, STATUS, WATCHDOG, RELOADING (with MONOTONIC_USEC), STOPPING as systemd reads them."""
    unit = f"notify-{behaviour}.service"
    manager = Manager(systemd)
    systemd.write("/run/jackrec-test/notify.py", NOTIFY_PROBE)
    systemd.write(
        f"/etc/systemd/system/{unit}",
        "[Unit]\nDefaultDependencies=no\n[Service]\nType=notify\nNotifyAccess=main\n"
        f"WatchdogSec=1s\nEnvironment=PYTHONPATH={PYTHONPATH}\n"
        f"ExecStart={SYSTEM_PYTHON} /run/jackrec-test/notify.py {behaviour}\n"
        "ExecReload=/bin/kill -HUP $MAINPID\n",
    )
    manager.systemctl("daemon-reload")
    manager.systemctl("start", unit)  # returns at READY=1
    assert manager.show(unit, "ActiveState", "StatusText") == {
        "ActiveState": "active",
        "StatusText": "watchdog 1.0",
    }
    if behaviour == "stall":
        assert manager.wait_for(unit, ("failed",), 10) == "failed"
        assert manager.show(unit, "Result")["Result"] == "watchdog"
        return
    # SIGHUP itself, not `systemctl reload`: with ExecReload=kill, whether the
    # reload job waits for READY=1 depends on which systemd hears first, the
    # kill's exit or RELOADING=1.  RELOADING=1 alone puts the unit in reloading.
    manager.systemctl("kill", "-s", "HUP", unit)
    assert manager.wait_for(unit, ("reloading",), RELOAD_SECONDS) == "reloading"
    assert manager.wait_for(unit, ("active",), 5) == "active"
    time.sleep(2)  # two watchdog periods, fed
    assert manager.show(unit, "ActiveState")["ActiveState"] == "active"
    manager.systemctl("stop", unit)
    assert manager.show(unit, "Result")["Result"] == "success"
