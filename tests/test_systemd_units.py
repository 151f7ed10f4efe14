"""The systemd units: valid for systemd, hardened as measured, installed with care.

``systemd-analyze verify`` checks each unit as systemd would load it, with
``@JACKREC@`` replaced by an executable that exists (as `make
install-service` does); ``systemd-analyze security --offline=true`` scores
its exposure, which is deterministic, so a unit that loses hardening fails
here.  The installer (systemd/install-service.sh) writes into a temporary
directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent
UNITS = CHECKOUT / "systemd"
INSTALLER = UNITS / "install-service.sh"
#: The exposure `systemd-analyze security --offline=true` gave each unit
#: (systemd 252; docs/service.md explains what remains).  Lower is better.
EXPOSURE = {"jackrec@.service": 0.8, "jackrec.service": 1.1}
#: What the units must never set, and why (docs/service.md, "Hardening").
FORBIDDEN = {
    "PrivateDevices=yes": "hides /dev/shm, where JACK's sockets and shared memory live",
    "PrivateIPC=yes": "JACK's shared memory must be the server's",
    "RemoveIPC=yes": "would delete the JACK server's shared memory when jackrec stops",
    "DynamicUser=yes": "a new UID each start never owns the JACK server (and implies RemoveIPC)",
    "MemoryDenyWriteExecute=yes": "JACK-Client's cffi callbacks need writable executable memory",
    "RestrictRealtime=yes": "JACK's process thread runs SCHED_FIFO",
}

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def render(unit: str, directory: Path) -> Path:
    """The unit as installed, with this interpreter as its executable."""
    text = (UNITS / unit).read_text().replace("@JACKREC@", sys.executable)
    path = directory / unit
    path.write_text(text)
    return path


def analyze(unit: str, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run systemd-analyze on the rendered unit (an instance of the template)."""
    path = render(unit, directory)
    name = unit.replace("@.", "@test.")
    runtime = directory / "runtime"  # a user manager's $XDG_RUNTIME_DIR
    runtime.mkdir(mode=0o700, exist_ok=True)
    scope = [] if "@" in unit else ["--user"]
    return subprocess.run(
        ["systemd-analyze", *args, *scope, str(path.parent / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=directory,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_PAGER": ""},
    )


@needs_analyze
@pytest.mark.parametrize("unit", sorted(EXPOSURE))
def test_verify(unit: str, tmp_path: Path) -> None:
    """No error and no warning: systemd ignores a bad line with a warning only."""
    result = analyze(unit, tmp_path, "verify")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@needs_analyze
@pytest.mark.parametrize("unit", sorted(EXPOSURE))
def test_security_exposure(unit: str, tmp_path: Path) -> None:
    result = analyze(unit, tmp_path, "security", "--offline=true")
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= EXPOSURE[unit], result.stdout


@pytest.mark.parametrize("unit", sorted(EXPOSURE))
def test_what_jack_needs_is_kept(unit: str) -> None:
    lines = {line.strip() for line in (UNITS / unit).read_text().splitlines()}
    for setting, why in FORBIDDEN.items():
        assert setting not in lines, f"{unit}: {setting} {why}"
    for setting in ("Type=notify", "NotifyAccess=main", "RestrictRealtime=no"):
        assert setting in lines, unit


class Installer:
    """systemd/install-service.sh with its files in a temporary directory."""

    def __init__(self, root: Path, system: bool = False) -> None:
        self.root = root
        self.unit = root / "units" / ("jackrec@.service" if system else "jackrec.service")
        self.environ = {
            "PATH": os.environ["PATH"],
            "HOME": str(root / "home"),
            "UNIT_DIR": str(self.unit.parent),
            "SYSUSERS_DIR": str(root / "sysusers"),
            "SYSTEM": "1" if system else "",
        }

    def __call__(
        self, action: str, jackrec: str | None = "/bin/true", force: bool = False
    ) -> subprocess.CompletedProcess[str]:
        environ = dict(self.environ, FORCE="1" if force else "")
        if jackrec is not None:
            environ["JACKREC"] = jackrec
        return subprocess.run(
            ["sh", str(INSTALLER), action],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=environ,
        )


def test_install_is_idempotent_and_updates_its_own_unit(tmp_path: Path) -> None:
    install = Installer(tmp_path)
    first = install("install")
    assert first.returncode == 0, first.stderr
    assert "systemctl --user enable --now jackrec" in first.stdout
    assert "ExecStart=/bin/true serve" in install.unit.read_text()
    assert (tmp_path / "home" / "jackrec").is_dir()  # the unit's ReadWritePaths=
    again = install("install")
    assert again.returncode == 0 and "up to date" in again.stdout
    other = install("install", jackrec="/bin/false")  # a new path, the unit untouched
    assert other.returncode == 0 and "ExecStart=/bin/false serve" in install.unit.read_text()


def test_an_edited_unit_is_kept_unless_forced(tmp_path: Path) -> None:
    install = Installer(tmp_path)
    assert install("install").returncode == 0
    edited = install.unit.read_text().replace("WatchdogSec=10s", "WatchdogSec=30s")
    install.unit.write_text(edited)
    for action in ("install", "uninstall"):
        refused = install(action)
        assert refused.returncode == 1 and "edited since it was installed" in refused.stderr
        assert "FORCE=1" in refused.stderr and install.unit.read_text() == edited
    forced = install("install", force=True)
    assert forced.returncode == 0 and "WatchdogSec=10s" in install.unit.read_text()


def test_uninstall(tmp_path: Path) -> None:
    install = Installer(tmp_path)
    assert install("install").returncode == 0
    wants = install.unit.parent / "default.target.wants"
    wants.mkdir()
    (wants / "jackrec.service").symlink_to("../jackrec.service")
    enabled = install("uninstall")
    assert enabled.returncode == 1 and "disable --now jackrec" in enabled.stderr
    (wants / "jackrec.service").unlink()
    removed = install("uninstall")
    assert removed.returncode == 0 and not install.unit.exists()
    assert "daemon-reload" in removed.stdout
    assert install("uninstall").stdout.endswith("is not installed\n")


def test_system_template_and_user(tmp_path: Path) -> None:
    install = Installer(tmp_path, system=True)
    result = install("install")
    assert result.returncode == 0, result.stderr
    assert "ExecStart=/bin/true --config /etc/jackrec/%i.toml serve" in install.unit.read_text()
    sysusers = (tmp_path / "sysusers" / "jackrec.conf").read_text()
    assert "u jackrec" in sysusers and "m jackrec audio" in sysusers
    assert "systemctl enable --now jackrec@NAME" in result.stdout


@pytest.mark.parametrize(
    ("jackrec", "message"),
    [
        (None, "JACKREC is not set"),
        ("bin/jackrec", "must be an absolute path"),
        ("/nonexistent/jackrec", "is not an executable"),
    ],
)
def test_bad_executable(tmp_path: Path, jackrec: str | None, message: str) -> None:
    result = Installer(tmp_path)("install", jackrec=jackrec)
    assert result.returncode == 1 and message in result.stderr
    assert result.stderr.startswith("install-service: error: ")


def test_system_service_cannot_run_from_a_home_directory(tmp_path: Path) -> None:
    """ProtectHome=yes hides /home, /root and /run/user: the script or its interpreter."""
    home = Path("/home/jackrec-test-never-there/jackrec")
    script = tmp_path / "jackrec"
    script.write_text(f"#!{home}/bin/python\n")
    script.chmod(0o755)
    install = Installer(tmp_path, system=True)
    result = install("install", jackrec=str(script))
    assert result.returncode == 1 and "cannot see (ProtectHome=yes)" in result.stderr
    assert not install.unit.exists()
