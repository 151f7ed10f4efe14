"""Bad input: one line on stderr, a non-zero exit, no traceback, no file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jackrec.source import SourceProcess
from tests.conftest import run_jackrec

CASES = {
    "unknown port pattern": (["-p", "no-such-client:*"], "matches"),
    "bad regex": (["-p", "re:[unclosed"], "regular expression"),
    "float FLAC": (["--format", "flac", "--bits", "float"], "cannot hold float"),
    "bad bit depth": (["--bits", "12"], "not 16, 24, 32 or float"),
    "zero channels": (["-c", "0"], "--channels must be"),
    "absurd channels": (["-c", "100000"], "--channels must be"),
    "negative channels": (["-c", "-3"], "--channels must be"),
    "non-numeric channels": (["-c", "many"], "not a whole number"),
    "FLAC group of 9": (["-c", "9", "--format", "flac", "--split", "1-9"], "wider than the 8"),
    "bad duration": (["--duration", "soon"], "not a duration"),
    "minutes past 59": (["--duration", "1:70"], "'70' is 60 or more"),
    "server name JACK cannot take": (["--server", "s" * 270], "bad JACK server name"),
    "client name JACK cannot take": (["--name", "c" * 64], "bad JACK client name"),
    "colon in client name": (["--name", "a:b"], "bad JACK client name"),
    "zero duration": (["--duration", "0"], "--duration must be"),
    "bad buffer": (["--buffer", "0"], "--buffer must be"),
    "ports and no-connect": (["--no-connect", "-p", "counter:*"], "contradict"),
    "unknown option": (["--frobnicate"], "unrecognized arguments"),
}


def assert_one_line_error(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("jackrec: error: ") and expected in lines[0], lines[0]


@pytest.mark.parametrize("case", list(CASES))
def test_bad_option(generator: SourceProcess, tmp_path: Path, case: str) -> None:
    options, expected = CASES[case]
    take = tmp_path / "take.wav"
    result = run_jackrec(["record", "--server", generator.server, *options, str(take)])
    assert result.returncode == 2
    assert_one_line_error(result.stderr, expected)
    assert not take.exists()


def test_a_client_named_like_its_server_is_refused(
    generator: SourceProcess, tmp_path: Path
) -> None:
    """Its socket would replace the server's, and the server be lost to every client."""
    take = tmp_path / "take.wav"
    args = ["record", "--server", generator.server, "--name", generator.server, str(take)]
    result = run_jackrec(args)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "is its server's name")
    assert not take.exists()
    assert run_jackrec(["ports", "--server", generator.server]).returncode == 0


def test_unknown_extension(generator: SourceProcess, tmp_path: Path) -> None:
    result = run_jackrec(["record", "--server", generator.server, str(tmp_path / "x.aiff")])
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "cannot tell the format")


def test_bad_config_file(generator: SourceProcess, tmp_path: Path) -> None:
    settings = tmp_path / "config.toml"
    settings.write_text("channels = 'eight'\n")
    take = tmp_path / "take.wav"
    result = run_jackrec(
        ["--config", str(settings), "record", "--server", generator.server, str(take)]
    )
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "'channels' has the wrong type")
    assert not take.exists()


def test_a_named_config_file_must_exist(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "take.wav"
    result = run_jackrec(
        ["--config", str(tmp_path / "nosuch.toml"), "record", "--server", generator.server,
         str(take)]
    )  # fmt: skip
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "nosuch.toml does not exist")
    assert not take.exists()


def test_missing_server(tmp_path: Path) -> None:
    take = tmp_path / "take.wav"
    result = run_jackrec(["record", "--server", f"no-such-server-{os.getpid()}", str(take)])
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "cannot connect to JACK server")
    assert not take.exists()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("sysfs", "Permission denied"),  # refuses new files even to root
        ("under a file", "Not a directory"),
    ],
)
def test_unwritable_path(
    generator: SourceProcess, tmp_path: Path, where: str, expected: str
) -> None:
    if where == "sysfs":
        take = Path(f"/sys/jackrec-{os.getpid()}.wav")
    else:
        (tmp_path / "plain-file").write_text("")
        take = tmp_path / "plain-file" / "take.wav"
    result = run_jackrec(["record", "--server", generator.server, str(take)])
    assert result.returncode == 1
    assert_one_line_error(result.stderr, expected)
    assert not take.exists()


def test_missing_directory(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "no" / "such" / "dir" / "take.wav"
    result = run_jackrec(["record", "--server", generator.server, str(take)])
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "No such file or directory")


def test_existing_take_is_never_overwritten(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "precious.wav"
    take.write_bytes(b"not yours")
    result = run_jackrec(["record", "--server", generator.server, str(take)])
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "never overwrites")
    assert take.read_bytes() == b"not yours"
