"""``jackrec connections save|load``: a rig's patch kept in a file and made
again, on a real server, checked with JACK's own view of the graph."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jack
import pytest

from jackrec.connections import current, read, render
from jackrec.source import SourceProcess
from tests.conftest import run_jackrec


@pytest.fixture
def rig(generator: SourceProcess) -> Iterator[jack.Client]:
    """A recorder's inputs, as a client of the test's: rig:in_1..3."""
    client = jack.Client("rig", servername=generator.server, no_start_server=True)
    for n in range(1, 4):
        client.inports.register(f"in_{n}")
    client.activate()
    yield client
    client.deactivate()
    client.close()


def test_a_saved_patch_is_made_again_and_nothing_else_is_touched(
    generator: SourceProcess, rig: jack.Client, tmp_path: Path
) -> None:
    patch = [("counter:out_1", "rig:in_1"), ("counter:out_2", "rig:in_2")]
    for source, destination in patch:
        rig.connect(source, destination)
    saved = tmp_path / "rig.toml"
    result = run_jackrec(
        ["connections", "save", "--server", generator.server, "--client", "rig", str(saved)]
    )
    assert (result.returncode, result.stdout) == (0, f"saved 2 connection(s) to {saved}\n")
    assert read(saved) == patch
    assert saved.read_text().splitlines()[2] == '    ["counter:out_1", "rig:in_1"],'

    rig.disconnect("counter:out_1", "rig:in_1")
    rig.connect("counter:out_7", "rig:in_3")  # patched since: load leaves it
    result = run_jackrec(["connections", "load", "--server", generator.server, str(saved)])
    assert (result.returncode, result.stdout) == (0, "made 1 connection(s), 1 made already\n")
    assert current(rig, "rig") == [*patch, ("counter:out_7", "rig:in_3")]


def test_a_port_that_does_not_exist_is_named_after_the_rest_is_made(
    generator: SourceProcess, rig: jack.Client, tmp_path: Path
) -> None:
    saved = tmp_path / "rig.toml"
    saved.write_text(
        render([("counter:out_99", "rig:in_1"), ("counter:out_3", "rig:in_3")], "a test")
    )
    result = run_jackrec(["connections", "load", "--server", generator.server, str(saved)])
    assert result.returncode == 1
    assert result.stdout == "made 1 connection(s), 0 made already\n"
    assert result.stderr == (
        "jackrec: error: could not connect counter:out_99 to rig:in_1: no port counter:out_99\n"
    )
    assert current(rig, "rig") == [("counter:out_3", "rig:in_3")]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("connections = [", "not TOML"),
        ('connections = [["a:b"]]', "'connections' must be a list of [source, destination]"),
        ("connections = 3", "'connections' must be a list"),
        ('other = "x"', "'connections' must be a list"),
        ('connections = [["nocolon", "a:b"]]', "'connections' must be a list"),
    ],
)
def test_a_file_that_is_not_a_patch_is_one_line(tmp_path: Path, text: str, says: str) -> None:
    saved = tmp_path / "rig.toml"
    saved.write_text(text)
    result = run_jackrec(["connections", "load", "--server", "nowhere", str(saved)])
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert says in result.stderr


def test_saving_where_it_cannot_write_is_one_line(generator: SourceProcess) -> None:
    result = run_jackrec(
        ["connections", "save", "--server", generator.server, "/nonexistent/rig.toml"]
    )
    assert result.returncode == 1
    assert result.stderr == (
        "jackrec: error: cannot write /nonexistent/rig.toml: No such file or directory\n"
    )
