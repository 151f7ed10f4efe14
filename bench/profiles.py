"""What a benchmark run covers: server configurations, channels, time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerConfig:
    rate: int
    period: int

    @property
    def label(self) -> str:
        return f"{self.rate // 1000} kHz / {self.period}"

    @property
    def period_us(self) -> float:
        return 1e6 * self.period / self.rate


@dataclass(frozen=True)
class Profile:
    """One benchmark profile.

    Attributes
    ----------
    configs
        Server configurations, each with its own private dummy server.
    channels
        The channel sweep.
    seconds
        Length of each recording.
    repetitions
        Runs per (configuration, channels, recorder); tables show medians.
    busy_channels
        Channel counts of the GIL-contention scenario.
    ring_iterations
        Cycles timed per case by the ring micro-benchmark.
    """

    name: str
    configs: tuple[ServerConfig, ...]
    channels: tuple[int, ...]
    seconds: float
    repetitions: int
    busy_channels: tuple[int, ...]
    ring_iterations: int


CONFIGS = (ServerConfig(48000, 256), ServerConfig(96000, 64))

QUICK = Profile(
    name="quick",
    configs=CONFIGS,
    channels=(16, 64, 256),
    seconds=4.0,
    repetitions=3,
    busy_channels=(16,),
    ring_iterations=2000,
)

FULL = Profile(
    name="full",
    configs=CONFIGS,
    channels=(2, 16, 64, 256, 512),
    seconds=10.0,
    repetitions=3,
    busy_channels=(16, 64, 256),
    ring_iterations=20000,
)

#: JACK2's per-client port limit; the sweep stays below it.
JACK_PORTS_PER_CLIENT = 2048
