"""The habits of a command-line tool: a manual page, shell completion,
``--version`` naming what jackrec runs on.  Each is checked with the real
program that reads it (man, bash, zsh), not only as text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import jack
import pytest
import soundfile

from jackrec import __version__
from jackrec.cli import build_parser
from jackrec.manpage import render
from tests.conftest import CHECKOUT, run_jackrec

PAGE = CHECKOUT / "docs" / "jackrec.1"
COMMANDS = ("record", "ports", "doctor", "repair", "markers", "tui", "serve", "run", "ctl")


def test_the_manual_page_is_what_the_command_line_says() -> None:
    assert PAGE.read_text() == render(build_parser()), "stale: run 'make man'"


def test_man_reads_the_page_without_a_warning() -> None:
    shown = subprocess.run(
        ["man", "--warnings", "-l", str(PAGE)],
        capture_output=True, text=True, timeout=60, check=False,
        env={"MANWIDTH": "100", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    text = shown.stdout
    for command in COMMANDS:
        assert re.search(rf"^   jackrec {command}$", text, re.MULTILINE), command
    assert "jackrec ctl status" in text  # the control commands, one level down
    assert "--sync DURATION" in text and "%Y-%m-%d_%H%M%S" in text  # argparse's %% expanded


def complete_in_bash(script: str, words: list[str]) -> list[str]:
    """What bash offers for the last of `words`, with jackrec's completion loaded."""
    line = " ".join(words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(word) for word in words)}); COMP_CWORD={len(words) - 1}\n"
        f"COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}\n"
        "_shtab_jackrec; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    result = subprocess.run(
        ["bash", "--norc", "-c", program], capture_output=True, text=True, timeout=30, check=True
    )
    return result.stdout.split()


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("completion")
    written = {}
    for shell in ("bash", "zsh"):
        result = run_jackrec(["completion", shell])
        assert result.returncode == 0, result.stderr
        written[shell] = directory / ("_jackrec" if shell == "zsh" else "jackrec")
        written[shell].write_text(result.stdout)
    return written


def test_bash_completes_commands_options_and_choices(scripts: dict[str, Path]) -> None:
    script = str(scripts["bash"])
    assert complete_in_bash(script, ["jackrec", "rec"]) == ["record"]
    assert complete_in_bash(script, ["jackrec", "record", "--for"]) == ["--format"]
    assert complete_in_bash(script, ["jackrec", "record", "--format", "f"]) == ["flac"]
    assert "status" in complete_in_bash(script, ["jackrec", "ctl", ""])


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_loads_the_completion_function(scripts: dict[str, Path]) -> None:
    script = scripts["zsh"]
    program = (
        f"fpath=({script.parent} $fpath); autoload -U compinit; compinit -u -D\n"
        "autoload -U +X _jackrec && whence -w _jackrec\n"
    )
    result = subprocess.run(
        ["zsh", "-f", "-c", program], capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.strip() == "_jackrec: function"


def test_a_shell_it_does_not_know_is_one_line() -> None:
    result = run_jackrec(["completion", "fish"])
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "invalid choice: 'fish'" in result.stderr


def test_version_names_libjack_libsndfile_and_the_servers() -> None:
    result = run_jackrec(["--version"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"jackrec {__version__}",
        f"libjack {jack.version_string()} (JACK-Client {jack.__version__})",
        f"libsndfile {soundfile.__libsndfile_version__}",
    ]
    jackd = subprocess.run(["jackd", "--version"], capture_output=True, text=True, timeout=10)
    installed = re.search(r"version (\S+)", jackd.stdout)
    assert installed and f"jackd {installed.group(1)}" in lines[3:], lines
