"""Model-based test of the C ring against a plain Python queue of frames."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from jackrec.core.ring import FrameRing


class RingMachine(RuleBasedStateMachine):
    """Every operation on the ring is mirrored on a deque; they must agree."""

    ring: FrameRing
    model: deque[tuple[float, ...]]

    @initialize(capacity=st.integers(1, 40), channels=st.integers(1, 5))
    def create(self, capacity: int, channels: int) -> None:
        self.ring = FrameRing.allocate(capacity, channels)
        self.channels = channels
        self.model = deque()
        self.next_value = 0.0
        self.released = 0

    def teardown(self) -> None:
        if hasattr(self, "ring"):
            self.ring.close()

    @rule(count=st.integers(0, 70))
    def write(self, count: int) -> None:
        values = np.arange(count * self.channels, dtype=np.float32) + self.next_value
        frames = values.reshape(count, self.channels)
        fits = len(self.model) + count <= self.ring.capacity
        assert self.ring.write(frames) == fits  # all or nothing
        if fits:
            self.model.extend(tuple(float(v) for v in row) for row in frames)
            self.next_value += count * self.channels

    @rule(count=st.integers(0, 70), release=st.booleans())
    def read(self, count: int, release: bool) -> None:
        views = self.ring.peek(count)
        got = [tuple(float(v) for v in row) for view in views for row in view]
        assert got == list(self.model)[: min(count, len(self.model))]
        assert len(views) <= 2 and all(len(view) > 0 for view in views)
        if release:
            self.ring.release(len(got))
            for _ in got:
                self.model.popleft()
            self.released += len(got)

    @precondition(lambda self: hasattr(self, "ring"))
    @invariant()
    def spaces_agree(self) -> None:
        assert self.ring.read_space == len(self.model)
        assert self.ring.write_space == self.ring.capacity - len(self.model)
        assert self.ring.read_position == self.released
        assert self.ring.write_position == self.released + len(self.model)


RingMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
TestRingModel = RingMachine.TestCase


@given(st.integers(1, 2**20))
def test_capacity_is_the_next_power_of_two(requested: int) -> None:
    ring = FrameRing.allocate(requested, 1)
    try:
        capacity = ring.capacity
        assert capacity >= requested and capacity & (capacity - 1) == 0
        assert capacity < 2 * requested or capacity == 1
    finally:
        ring.close()
