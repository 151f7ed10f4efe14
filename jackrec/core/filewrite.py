"""Frames into a take's sound files, in C (``cext/filewrite.c``).

The disk writer hands a take everything it has to write in one call per
ring region; the C code picks each file's channels, measures the take's
peaks and clips, converts the samples and calls libsndfile, with the GIL
released.  Never called in the JACK thread.

libsndfile's functions are taken from the library `soundfile` loaded, so
the process holds one libsndfile.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec._core import ffi, lib

#: The most one write() hands the kernel.  Small, so the kernel's copy into
#: the page cache is short: on a kernel without forced preemption
#: (CONFIG_PREEMPT_NONE, common on servers and VMs, and this one) a write()
#: holds its core until it returns, and a realtime thread woken there waits.
#: Measured at 256 channels, 96 kHz / 64 (alternating 4 s runs): 1 MiB
#: writes gave the process callback a p99.9 of 1.3-2.6 ms and 280-510
#: xruns a second; 128 KiB and less, 0.15-0.5 ms and 10-70 a second, near
#: what the idle server makes (about 26 a second).
WRITE_BYTES = 1 << 17

#: The scratch of all of a take's files together: a take split into 2048
#: files writes each in pieces of 16 KiB.
SCRATCH_BYTES = 1 << 25

#: Whether packed little-endian samples can be written as they are.
LITTLE_ENDIAN = sys.byteorder == "little"


def _function(name: str, signature: str) -> Any:
    """libsndfile's function `name` (from soundfile's library) as our type."""
    address = int(sf._ffi.cast("uintptr_t", getattr(sf._snd, name)))
    return ffi.cast(signature, address)


_API = ffi.new(
    "jr_sndfile_api_t *",
    {
        "write_raw": _function("sf_write_raw", "int64_t (*)(void *, void *, int64_t)"),
        "writef_float": _function("sf_writef_float", "int64_t (*)(void *, void *, int64_t)"),
        "writef_int": _function("sf_writef_int", "int64_t (*)(void *, void *, int64_t)"),
        "writef_short": _function("sf_writef_short", "int64_t (*)(void *, void *, int64_t)"),
    },
)


class FileSink:
    """One open sound file as the C writer sees it.

    Parameters
    ----------
    handle
        The file, open for writing.
    bits
        16, 24 or 32 for integer samples; 0 for float (and the lossy codecs).
    raw
        Write packed little-endian samples (WAV, RF64, W64 on a
        little-endian host) rather than through libsndfile's conversion.
    scratch_bytes
        The most one write hands over (at least one frame is taken).
    """

    def __init__(self, handle: sf.SoundFile, bits: int, raw: bool, scratch_bytes: int) -> None:
        self.channels: int = handle.channels
        frame_bytes = self.channels * lib.jr_sample_bytes(bits, raw)
        self._scratch = np.empty(max(scratch_bytes, frame_bytes), np.uint8)
        self._line = np.empty(self.channels, np.float32)
        self._integers = np.empty(self.channels, np.int32)
        self._handle = handle  # kept alive with the pointer to it
        self.struct = ffi.new(
            "jr_file_writer_t *",
            {
                "sndfile": handle._file,
                "api": _API,
                "channels": self.channels,
                "bits": bits,
                "raw": int(raw),
                "scratch": ffi.from_buffer(self._scratch),
                "scratch_bytes": len(self._scratch),
                "line": ffi.from_buffer("float[]", self._line),
                "integers": ffi.from_buffer("int32_t[]", self._integers),
            },
        )


class FilesWriter:
    """Writes capture frames to several files at once (a take's).

    Parameters
    ----------
    sinks
        The files.
    maps
        Per file: the column of the frames each of its channels comes from.
    levels
        Per file: the take's peaks (float32) and clips (uint64) of its
        channels, updated in place; None: not measured.
    """

    def __init__(
        self,
        sinks: Sequence[FileSink],
        maps: Sequence[npt.NDArray[np.uint32]],
        levels: Sequence[tuple[npt.NDArray[np.float32], npt.NDArray[np.uint64]]] | None = None,
    ) -> None:
        self._keep: list[Any] = [*sinks, *maps]  # what the structs point into
        self._files = ffi.new("jr_file_writer_t[]", len(sinks))
        for i, (sink, columns) in enumerate(zip(sinks, maps, strict=True)):
            assert len(columns) == sink.channels and columns.dtype == np.uint32
            self._files[i] = sink.struct[0]
            self._files[i].map = ffi.from_buffer("uint32_t[]", columns)
            if levels is not None:
                peaks, clips = levels[i]
                self._keep += [peaks, clips]
                self._files[i].peaks = ffi.from_buffer("float[]", peaks)
                self._files[i].clips = ffi.from_buffer("uint64_t[]", clips)
        # silence: one row of zeros as wide as any frames the maps reach into
        width = max((int(columns.max()) + 1 for columns in maps if len(columns)), default=1)
        self._zeros = np.zeros(width, np.float32)
        self._failed = ffi.new("uint32_t *")

    def write(
        self,
        frames: npt.NDArray[np.float32],
        noise: Sequence[npt.NDArray[np.float64] | None] | None = None,
    ) -> int | None:
        """Append C-contiguous `frames` ``(n, stride)`` to every file.

        `noise`: per file, each sample's dither (or None).  Returns None, or
        the index of the file libsndfile failed to write (the files then
        hold different numbers of frames).
        """
        assert frames.flags.c_contiguous and frames.dtype == np.float32
        for i in range(len(self._files)):
            dither = None if noise is None else noise[i]
            self._files[i].noise = (
                ffi.NULL if dither is None else ffi.from_buffer("double[]", dither)
            )
        return self._call(ffi.from_buffer("float[]", frames), len(frames), frames.shape[1])

    def write_silence(self, frames: int) -> int | None:
        """Append `frames` frames of exact zeros (undithered); as `write`."""
        for i in range(len(self._files)):
            self._files[i].noise = ffi.NULL
        # every frame is the same row of zeros: a stride of 0
        return self._call(ffi.from_buffer("float[]", self._zeros), frames, 0)

    def _call(self, frames: Any, count: int, stride: int) -> int | None:
        status = lib.jr_files_write(
            self._files, len(self._files), frames, count, stride, self._failed
        )
        return None if status == 0 else int(self._failed[0])
