"""The aligner's rule, without JACK: file frame f of channel c is stream frame s0 + f - d_c."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from jackrec.align import Aligner, align_delays

CHANNELS = 3


def stream(frames: int) -> npt.NDArray[np.float32]:
    """Every sample says its stream frame and channel."""
    n = np.arange(frames)[:, None] * 4 + np.arange(1, CHANNELS + 1)
    return n.astype(np.float32)


def expected(whole: npt.NDArray[np.float32], delays: list[int], start: int, frames: int) -> object:
    """Stream frames start..start+frames, channel c delayed by delays[c] (silence before 0)."""
    out = np.zeros((frames, CHANNELS), np.float32)
    for c, delay in enumerate(delays):
        for f in range(frames):
            s = start + f - delay
            out[f, c] = whole[s, c] if s >= 0 else 0.0
    return out


def test_delays_line_up_behind_the_latest_channel() -> None:
    assert align_delays([0, 256, 1000]) == (1000, 744, 0)
    assert align_delays([]) == ()


@settings(max_examples=60, deadline=None)
@given(
    delays=st.lists(st.integers(0, 40), min_size=CHANNELS, max_size=CHANNELS),
    steps=st.lists(
        st.tuples(st.sampled_from(["write", "skip", "silence"]), st.integers(1, 60)),
        min_size=1,
        max_size=12,
    ),
)
def test_every_frame_walked_keeps_the_rule(delays: list[int], steps: list[tuple[str, int]]) -> None:
    """Blocks written, let go, or gaps of silence, in any sizes: written frames follow the rule."""
    frames = sum(n for _, n in steps)
    whole = stream(frames)
    for at, (kind, n) in enumerate(steps):
        if kind == "silence":
            whole[sum(m for _, m in steps[:at]) :][:n] = 0.0
    aligner = Aligner(CHANNELS)
    aligner.set_delays(delays)
    position = 0
    for kind, n in steps:
        block = whole[position : position + n]
        if kind == "write":
            np.testing.assert_array_equal(
                aligner.process(block.copy()), expected(whole, delays, position, n)
            )
        elif kind == "skip":
            aligner.skip(block.copy())
        else:
            aligner.skip_silence(n)
        position += n


def test_consecutive_takes_join_on_every_channel() -> None:
    """A take ending where the next begins: each channel goes on without a frame lost."""
    whole = stream(300)
    aligner = Aligner(CHANNELS)
    aligner.set_delays([30, 0, 7])
    first = aligner.process(whole[:120].copy())
    aligner.set_delays([30, 0, 7])  # the next take, same latencies
    second = aligner.process(whole[120:].copy())
    np.testing.assert_array_equal(
        np.concatenate((first, second)), expected(whole, [30, 0, 7], 0, 300)
    )


def test_a_larger_delay_than_kept_begins_with_silence() -> None:
    """History is kept for the delays used so far; frames older than that are silence."""
    whole = stream(100)
    aligner = Aligner(CHANNELS)
    aligner.set_delays([5, 0, 0])
    aligner.skip(whole[:50].copy())
    aligner.set_delays([20, 0, 0])
    out = aligner.process(whole[50:].copy())
    assert (out[:15, 0] == 0).all()  # frames 30..44: older than the 5 kept
    np.testing.assert_array_equal(out[15:, 0], whole[45:80, 0])
    np.testing.assert_array_equal(out[:, 1:], whole[50:, 1:])
    assert aligner.depth == 20


def test_without_delays_blocks_pass_unchanged() -> None:
    block = stream(10)
    assert Aligner(CHANNELS).process(block) is block
