"""The sawtooth test signal, which moves every meter every frame (`bench.console`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from jackrec.jackserver import DummyServer
from jackrec.source import SourceProcess
from tests.conftest import RATE, run_jackrec

CHANNELS = 3
LEVEL = 0.98  # cext/source.c's SAWTOOTH_LEVEL


def test_each_channel_sweeps_the_scale_at_its_own_rate_without_clipping(
    jack_server: DummyServer, tmp_path: Path
) -> None:
    source = SourceProcess(jack_server.name, CHANNELS, "sawtooth", name="saw").start()
    try:
        take = tmp_path / "saw.wav"
        result = run_jackrec(
            ["record", "--server", jack_server.name, "-p", "saw:*", "-d", "1", str(take)]
        )
        assert result.returncode == 0, result.stderr
    finally:
        source.stop()
    data, rate = sf.read(str(take), dtype="float64")
    assert rate == RATE and data.shape == (RATE, CHANNELS)
    for channel in range(CHANNELS):
        samples = data[:, channel]
        assert LEVEL - 0.01 < np.abs(samples).max() <= np.float32(LEVEL)  # never a clip
        steps = np.diff(samples)
        rising = steps[steps > 0]  # the ramp, without its falls back to -LEVEL
        hz = 1.0 + channel / 8.0
        assert np.allclose(rising, 2 * LEVEL * hz / RATE, rtol=0, atol=1e-7)  # float32 steps
        assert (steps < 0).sum() in (int(hz), int(hz) + 1)  # a fall a cycle
