"""jackrec's inputs as a patchbay shows them: JACK metadata read with
``jack_property``, the tool qjackctl users reach for, in every face.

Each input's pretty-name is its track's name (its source's pretty-name, or
the source's port name) while a source feeds it, and follows re-patching;
its order is its channel number.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import jack
import pytest

from jackrec.metadata import XSD_INTEGER
from jackrec.source import SourceProcess
from tests.conftest import FACES, let_it_record, start_face, stop_process

CHANNELS = 3


def port_properties(server: str, port: str) -> dict[str, tuple[str, str]]:
    """``jack_property -l --port PORT``: key -> (value, type)."""
    listed = subprocess.run(
        ["jack_property", "-l", "--port", port],
        capture_output=True, text=True, timeout=10, check=False,
        env={**os.environ, "JACK_DEFAULT_SERVER": server},
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    # "key: KEY value: VALUE" or "key: KEY value: VALUE type: TYPE", one a line
    lines = (LINE.fullmatch(line) for line in listed.stdout.splitlines())
    return {m["key"]: (m["value"], m["type"] or "") for m in lines if m is not None}


LINE = re.compile(r"key: (?P<key>\S+) value: (?P<value>.*?)(?: type: (?P<type>\S+))?")


def name_of(server: str, port: str) -> str | None:
    """The port's pretty-name, if it has one."""
    found = port_properties(server, port).get(jack.METADATA_PRETTY_NAME)
    return found[0] if found else None


def until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def patchbay(generator: SourceProcess) -> Iterator[jack.Client]:
    """A client of the test's, as qjackctl would be: it names a source and re-patches."""
    client = jack.Client("patchbay", servername=generator.server, no_start_server=True)
    second = client.get_port_by_name(generator.port_names[1])
    client.set_property(second, jack.METADATA_PRETTY_NAME, "Snare Top")
    yield client
    client.remove_property(second, jack.METADATA_PRETTY_NAME)
    client.close()


@pytest.mark.parametrize("face", FACES)
def test_inputs_carry_their_tracks_names_and_channel_order(
    generator: SourceProcess, patchbay: jack.Client, tmp_path: Path, face: str
) -> None:
    client = "jackrec" if face != "service" else "jackrec-service"
    process = start_face(face, generator, tmp_path, channels=CHANNELS)
    try:
        let_it_record(tmp_path / "take.wav", 0.2)
        pretty, order = jack.METADATA_PRETTY_NAME, jack.METADATA_ORDER
        inputs = [f"{client}:in_{n}" for n in range(1, CHANNELS + 1)]
        until(lambda: pretty in port_properties(generator.server, inputs[2]))
        found = [port_properties(generator.server, port) for port in inputs]
        assert [p[pretty][0] for p in found] == ["counter:out_1", "Snare Top", "counter:out_3"]
        assert [p[order] for p in found] == [(str(n), XSD_INTEGER) for n in (1, 2, 3)]
        # re-patched by hand: the name follows
        patchbay.connect(generator.port_names[5], inputs[2])
        mixed = "counter:out_3 + counter:out_6"
        until(lambda: name_of(generator.server, inputs[2]) == mixed)
        patchbay.disconnect(generator.port_names[2], inputs[2])
        until(lambda: name_of(generator.server, inputs[2]) == "counter:out_6")
        if face != "service":  # which would connect the next source to a free input
            patchbay.disconnect(generator.port_names[5], inputs[2])
            until(lambda: pretty not in port_properties(generator.server, inputs[2]))
    finally:
        stop_process(process)
        if process.stdin is not None:
            process.stdin.close()
