"""Exercise every entry point of jackrec._core, for valgrind memcheck.

Starts a private dummy JACK server (outside valgrind: jackd is its own
process), runs the signal source and a real recording in this process,
and drives the ring API directly.  Exits non-zero if anything is off.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from jackrec import counter
from jackrec.core.capture import FREEWHEEL, ROLLING, Capture
from jackrec.core.filewrite import FilesWriter
from jackrec.core.ring import FrameRing
from jackrec.jackserver import DummyServer
from jackrec.levels import TakeLevels
from jackrec.session import Session, SessionOptions
from jackrec.source import SignalSource
from jackrec.takefile import FileFormat, TakeFile


def exercise_ring() -> None:
    ring = FrameRing.allocate(1000, 3)
    frames = np.arange(3 * 700, dtype=np.float32).reshape(700, 3)
    for _ in range(10):
        assert ring.write(frames)
        views = ring.peek(10_000)
        assert np.array_equal(np.concatenate(views), frames)
        ring.release(700)
    ring.close()
    capture = Capture(4, 4096)
    capture.take_meters()
    capture.stats().callback_ns_quantile(0.999)
    assert capture.open_gap() is None and capture.gaps.peek() is None
    capture.watch(ROLLING | FREEWHEEL)
    assert capture.states.pop() is None and not capture.freewheeling
    capture.close()


def exercise_file_writer(directory: Path) -> None:
    """Every path of cext/filewrite.c: packed, converted by libsndfile,
    dithered, in place, gathered from other columns, and silence."""
    frames = np.linspace(-1.2, 1.2, 5 * 3001, dtype=np.float32).reshape(3001, 5)
    for name, file_format in [
        ("packed.wav", FileFormat("WAV", "PCM_24")),
        ("frames.flac", FileFormat("FLAC", "PCM_16")),
        ("frames.caf", FileFormat("CAF", "PCM_32")),
        ("dithered.wav", FileFormat("WAV", "PCM_16", dither=True)),
        ("in-place.rf64", FileFormat("RF64", "FLOAT")),
    ]:
        file = TakeFile.create(directory / name, file_format, 5, 48000, scratch_bytes=1000)
        file.write(frames)
        file.write(frames, silence=True)
        file.sync_header()
        file.close()
        assert sf.info(str(directory / name)).frames == 2 * len(frames)
    levels = TakeLevels(5)
    maps = [np.array([4, 0, 2], np.uint32), np.array([1, 3], np.uint32)]
    files = [
        TakeFile.create(directory / f"{i}.w64", FileFormat("W64", "FLOAT"), len(m), 48000)
        for i, m in enumerate(maps)
    ]
    groups = [(levels.peaks[:3], levels.clips[:3]), (levels.peaks[3:], levels.clips[3:])]
    writer = FilesWriter([file.sink for file in files], maps, groups)
    assert writer.write(frames) is None and writer.write_silence(100) is None
    for file in files:
        file.close()
    assert np.array_equal(levels.peaks, np.abs(frames[:, [4, 0, 2, 1, 3]]).max(axis=0))


def exercise_recording(directory: Path) -> None:
    with DummyServer("jackrec-valgrind", synchronous=True) as server:
        with SignalSource(4, "counter", server=server.name) as source:
            path = directory / "valgrind.wav"
            session = Session(
                SessionOptions(ports=tuple(source.port_names), server=server.name)
            ).open()
            take = session.new_take(path, FileFormat("WAV", "FLOAT"))
            session.record(take)
            # the transport queried each cycle, a roll queued (nothing follows it)
            session.capture.watch(ROLLING)
            session.client.transport_start()
            time.sleep(0.5)
            session.client.transport_stop()
            time.sleep(0.5)
            session.meters.poll()
            xruns = session.status().xruns
            session.close()
        data, _ = sf.read(str(path), dtype="float32")
        assert take.frames == len(data) > 0
        report = counter.check(data)
        # Under valgrind the source in this process can miss its cycles, and
        # the server then repeats or skips its periods: that is the
        # environment's xrun, not a loss; without one the timeline must hold.
        assert report.channels_in_order and (xruns > 0 or report.timeline_kept), report


def main() -> int:
    exercise_ring()
    with tempfile.TemporaryDirectory() as directory:
        exercise_file_writer(Path(directory))
        exercise_recording(Path(directory))
    print("extension exercised")
    return 0


if __name__ == "__main__":
    sys.exit(main())
