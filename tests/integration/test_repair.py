"""`jackrec repair` on takes left by recorders killed mid-take on a real server.

A FLAC take of ``jackrec record`` killed with SIGKILL has no length
(libsndfile cannot read it); a WAV of jack_capture killed the same way
says it holds nothing (sox reads no sample).  After the repair both read
back with every frame, gapless, in libsndfile and in sox alike.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import RATE, jackrec_command, run_jackrec, stop_process
from tests.test_repair import UNKNOWN_LENGTH, sox_samples

CHANNELS = 4


def kill_when_written(process: subprocess.Popen[bytes], path: Path, size: int) -> None:
    """SIGKILL `process` once `path` holds `size` bytes (bounded wait)."""
    try:
        deadline = time.monotonic() + 20
        while not (path.exists() and path.stat().st_size > size):
            assert process.poll() is None, "the recorder ended by itself"
            assert time.monotonic() < deadline, f"{path} did not grow to {size} bytes"
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        stop_process(process)


def repair_and_read(path: Path, header_said: str, sidecar: bool) -> int:
    """`jackrec repair` `path`: the frames it reports, which libsndfile and sox read alike."""
    result = run_jackrec(["repair", str(path)])
    assert result.returncode == 0, result.stderr
    torn = r"(; a (torn|partial) last frame \(\d+ bytes\) (not counted|left out))?"
    said = f"header said {header_said}{torn}{'; sidecar updated' if sidecar else ''}"
    match = re.fullmatch(
        rf"{re.escape(str(path))}: repaired: (\d+) frames \({said}\)\n", result.stdout
    )
    assert match, result.stdout
    data, rate = sf.read(str(path), dtype="float32")
    assert rate == RATE and data.shape == (int(match[1]), CHANNELS)
    assert len(data) > RATE  # a second and more was recorded
    assert np.array_equal(sox_samples(path), data.ravel())
    assert counter.check(data).gapless
    return len(data)


@pytest.mark.parametrize("bits", ["16", "24"])
def test_a_killed_flac_take_is_made_readable_with_every_frame(
    generator: SourceProcess, tmp_path: Path, bits: str
) -> None:
    ports = [arg for port in generator.port_names[:CHANNELS] for arg in ("-p", port)]
    take = tmp_path / "killed.flac"
    process = subprocess.Popen(
        jackrec_command(
            "record", "--server", generator.server, "-q", "-b", bits, *ports, str(take)
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kill_when_written(process, take, 40_000)  # the counter: about 2 kB per 4096 frames
    sidecar = read_sidecar(take)
    assert sidecar["complete"] is False
    assert sf.info(str(take)).frames == UNKNOWN_LENGTH  # unreadable as it is

    frames = repair_and_read(take, "unknown", sidecar=True)

    assert read_sidecar(take) == {**sidecar, "complete": True, "frames": frames, "repaired": True}

    again = run_jackrec(["repair", str(take)])
    assert (again.returncode, again.stdout) == (0, f"{take}: complete, left as it is\n")


def test_a_wav_of_jack_capture_killed_mid_take_is_repaired(
    generator: SourceProcess, tmp_path: Path
) -> None:
    assert shutil.which("jack_capture"), "jack_capture is missing (make deps installs it)"
    take = tmp_path / "jack_capture.wav"
    ports = [arg for port in generator.port_names[:CHANNELS] for arg in ("--port", port)]
    process = subprocess.Popen(
        ["jack_capture", "--daemon", "--channels", str(CHANNELS), *ports,
         "--bitdepth", "FLOAT", "--format", "wav", "--filename", str(take)],
        env={**os.environ, "JACK_DEFAULT_SERVER": generator.server},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    kill_when_written(process, take, RATE * CHANNELS * 4)  # a second and more
    # jack_capture writes its header sizes only at the end (RIFF size 8,
    # data size 0): sox reads nothing.  (libsndfile guesses from the file
    # length by itself.)
    assert len(sox_samples(take)) == 0

    repair_and_read(take, "0", sidecar=False)

    assert not Path(f"{take}.json").exists()  # no sidecar made up for it
