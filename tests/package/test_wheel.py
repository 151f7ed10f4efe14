"""The product as a user installs it: the wheel, in a venv of its own.

``make package`` (the last step of ``make test``) builds the sdist, builds
the wheel from that sdist, installs the wheel into a fresh venv and runs
this file with ``JACKREC_PACKAGE_DIR`` naming the directory that holds both
(``dist/`` and ``venv/``).  Without it the file is skipped: a plain pytest
run builds no wheels.

The dev venv's editable install reads the checkout, so it once hid a wheel
without the console (``jackrec.tui``).  Here every jackrec command is the
installed venv's, run from a directory outside the checkout, so nothing
can come from the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from jackrec import __version__
from jackrec.jackserver import DummyServer
from jackrec.source import SourceProcess
from tests.conftest import CHECKOUT, server_name
from tests.tmux import Tmux, wait_for_exit

if "JACKREC_PACKAGE_DIR" not in os.environ:
    pytest.skip("runs in 'make package', against the wheel it builds", allow_module_level=True)

PACKAGE = Path(os.environ["JACKREC_PACKAGE_DIR"]).resolve()
DIST = PACKAGE / "dist"
VENV = PACKAGE / "venv"
JACKREC = str(VENV / "bin" / "jackrec")
CHANNELS = 2
SECONDS = 2

#: Run in the installed venv: which jackrec answered, and the counter check of a take.
CHECK_TAKE = """
import json, sys
from pathlib import Path
import jackrec
from jackrec.counter import check_file
report = check_file(Path(sys.argv[1]))
print(json.dumps({"module": jackrec.__file__, "frames": report.frames, "gapless": report.gapless}))
"""


def only(pattern: str) -> Path:
    (path,) = DIST.glob(pattern)
    return path


def checkout_files(*patterns: str) -> set[str]:
    """The checkout's files that match `patterns`, relative to it."""
    return {str(path.relative_to(CHECKOUT)) for p in patterns for path in CHECKOUT.glob(p)}


#: Every module and the stylesheet: what the installed package must hold.
PACKAGE_FILES = checkout_files("jackrec/**/*.py", "jackrec/**/*.tcss")


def test_wheel_is_abi3_and_holds_the_whole_package_and_the_license() -> None:
    wheel = only("*.whl")
    name, version, python, abi, _platform = wheel.stem.split("-")
    assert (abi, python) == ("abi3", "cp311"), "cffi builds _core against the limited API"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"{name}-{version}.dist-info/METADATA").decode()
    assert PACKAGE_FILES - names == set()
    assert "jackrec/_core.abi3.so" in names
    assert f"{name}-{version}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata.splitlines()


def test_sdist_holds_the_sources_license_and_readme() -> None:
    with tarfile.open(only("*.tar.gz")) as archive:
        names = {member.split("/", 1)[1] for member in archive.getnames() if "/" in member}
    assert {"LICENSE", "README.md", "pyproject.toml", "setup.py", "cext/build_core.py"} <= names
    assert "docs/jackrec.1" in names
    assert (PACKAGE_FILES | checkout_files("cext/*.c", "cext/*.h")) - names == set()


@pytest.fixture(scope="module")
def server() -> Iterator[DummyServer]:
    server = DummyServer(server_name("package"), synchronous=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def source(server: DummyServer) -> Iterator[SourceProcess]:
    """The installed ``jackrec demo-source`` sending the counter."""
    source = SourceProcess(server.name, CHANNELS, "counter", name="counter", jackrec=[JACKREC])
    source.start()
    yield source
    source.stop()


def test_installed_jackrec_records_a_gapless_take(
    server: DummyServer, source: SourceProcess, tmp_path: Path
) -> None:
    recorded = subprocess.run(
        [JACKREC, "record", "--server", source.server, "-p", "counter:out_*",
         "--duration", str(SECONDS), "take.wav"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    checked = subprocess.run(
        [VENV / "bin" / "python", "-c", CHECK_TAKE, "take.wav"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert Path(report["module"]).is_relative_to(VENV)
    assert report["frames"] == SECONDS * server.rate
    assert report["gapless"]


def test_installed_console_opens_and_quits(
    tmux: Tmux, source: SourceProcess, tmp_path: Path
) -> None:
    tmux.start(
        [JACKREC, "tui", "--server", source.server, "-p", "counter:out_*",
         "--dir", str(tmp_path / "takes")],
        tmp_path / "exit",
    )  # fmt: skip
    tmux.wait_for("STOPPED")
    tmux.wait_for(f"armed {CHANNELS}/{CHANNELS}")  # the transport bar and the meters are up
    tmux.wait_for("out_1")
    tmux.press("q")
    assert wait_for_exit(tmp_path / "exit") == "exit=0", tmux.screen()


def test_installed_manual_page_completion_and_versions(tmp_path: Path) -> None:
    """``man jackrec`` finds the page beside the venv's jackrec (man-db looks
    beside each PATH entry); completion and ``--version`` run from the venv."""
    page = VENV / "share" / "man" / "man1" / "jackrec.1"
    assert page.read_text() == (CHECKOUT / "docs" / "jackrec.1").read_text()
    env = {**os.environ, "PATH": f"{VENV / 'bin'}:/usr/bin:/bin"}
    env.pop("MANPATH", None)
    found = subprocess.run(
        ["man", "-w", "jackrec"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert found.stdout.strip() == str(page), found.stderr
    for shell in ("bash", "zsh"):
        script = subprocess.run(
            [JACKREC, "completion", shell], cwd=tmp_path, capture_output=True, text=True,
            timeout=30, check=True,
        ).stdout  # fmt: skip
        assert "record" in script and "--format" in script
    versions = subprocess.run(
        [JACKREC, "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=30, check=True
    ).stdout.splitlines()
    assert versions[0] == f"jackrec {__version__}" and versions[2].startswith("libsndfile ")
