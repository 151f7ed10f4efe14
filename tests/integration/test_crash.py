"""``kill -9`` mid-take leaves a readable take; ``jackrec repair`` gives it every frame written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jackrec import counter
from jackrec.repair import mapped, read_wave_header
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from jackrec.take import HEADER_SECONDS
from tests.conftest import RATE, kill_recording, run_jackrec

CHANNELS = 4


def header_bytes(path: Path) -> int:
    """The bytes that are not audio, less what jackrec appends after a finalized take's audio."""
    info = sf.info(str(path))
    return path.stat().st_size - int(info.frames) * int(info.channels) * 4 - appended(path)


def appended(path: Path) -> int:
    """The bytes after a WAV or RF64 file's audio (its iXML and cue points, once finalized)."""
    with mapped(path) as (data, _):
        if data[:4] not in (b"RIFF", b"RF64"):
            return 0
        header = read_wave_header(data)
        return len(data) - (header.audio.start + header.data_size)


@pytest.mark.parametrize("name", ["killed.wav", "killed.rf64", "killed.w64", "killed.caf"])
def test_sigkill_leaves_a_readable_take_that_repair_completes(
    generator: SourceProcess, tmp_path: Path, name: str
) -> None:
    """Killed, a take reads back gapless with at least what its sidecar
    counted (the header is never behind the sidecar) and at most a header
    interval less than was written; ``jackrec repair`` gives it the rest:
    every frame written, and a header as long as a finalized take's."""
    ports = [arg for port in generator.port_names[:CHANNELS] for arg in ("-p", port)]
    take = tmp_path / name
    kill_recording(generator.server, generator.port_names[:CHANNELS], take, 2.5)
    sidecar = read_sidecar(take)
    assert sidecar["complete"] is False and sidecar["frames"] > 0  # 2 s: updated once

    killed, rate = sf.read(str(take), dtype="float32")
    assert rate == RATE and killed.shape[1] == CHANNELS
    assert len(killed) >= sidecar["frames"]
    assert counter.check(killed).gapless

    result = run_jackrec(["repair", str(take)])
    assert result.returncode == 0, result.stderr
    data, _ = sf.read(str(take), dtype="float32")
    assert len(data) > RATE  # a second and more reached the disk
    assert counter.check(data).gapless
    assert np.array_equal(data[: len(killed)], killed)
    lag = (len(data) - len(killed)) / RATE
    assert lag <= HEADER_SECONDS + 1.0, lag  # a loaded machine delays the writer's steps

    # The header accounts for every byte written: the repaired file's header
    # is exactly as long as that of a take finalized normally.
    reference = tmp_path / f"reference{take.suffix}"
    result = run_jackrec(
        ["record", "--server", generator.server, "-q", "--duration", "0.2", *ports, str(reference)]
    )
    assert result.returncode == 0, result.stderr
    if take.suffix != ".wav":  # .wav without --duration starts as RF64
        assert header_bytes(take) == header_bytes(reference)
    else:
        # still RIFF, and all that is not audio is the header before it (bext included)
        assert take.read_bytes()[:4] == b"RIFF"
        with mapped(take) as (data, _):
            assert header_bytes(take) == read_wave_header(data).audio.start
