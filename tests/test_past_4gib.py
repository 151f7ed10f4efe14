"""A WAV take that passes 4 GiB becomes RF64, for real.

No threshold is lowered and no file is sparse: libsndfile decides the
switch from what it has written, so the test writes what it would take
(4 GiB and a little more, through `TakeFile` as the writer does, in a few
seconds from the page cache) and reads the result back with its own chunk
parser and with libsndfile.  An open-ended WAV take is written as RF64
that closes as plain RIFF/WAVE below the limit (tested in test_takefile).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from jackrec.takefile import FileFormat, TakeFile, resolve_format

CHANNELS = 2
BLOCK = 1 << 20  # frames a write: 8 MiB of 2 float channels
LIMIT = 2**32  # what a RIFF size field can hold


def chunks(path: Path) -> dict[bytes, bytes]:
    """The top-level chunks after the RIFF/RF64 header, whole except 'data'."""
    found = {}
    with path.open("rb") as file:
        kind, _, wave = struct.unpack("<4sI4s", file.read(12))
        found[b"header"] = kind + wave
        while header := file.read(8):
            name, size = struct.unpack("<4sI", header)
            if name == b"data":
                found[name] = b""
                break
            found[name] = file.read(size + (size & 1))
    return found


def test_an_open_ended_wav_take_past_4_gib_is_rf64_with_every_frame(tmp_path: Path) -> None:
    file_format = resolve_format(Path("t.wav"), None, None, CHANNELS, 48000, None)
    assert file_format == FileFormat("RF64", "FLOAT", rf64_downgrade=True)
    path = tmp_path / "long.wav"
    try:
        check_a_take_past_4_gib(path, file_format)
    finally:
        path.unlink(missing_ok=True)  # pytest keeps its last temporary directories


def check_a_take_past_4_gib(path: Path, file_format: FileFormat) -> None:
    take = TakeFile.create(path, file_format, CHANNELS, 48000)
    zeros = np.zeros((BLOCK, CHANNELS), np.float32)
    blocks = LIMIT // (BLOCK * CHANNELS * 4)  # exactly 4 GiB of samples
    for _ in range(blocks):
        take.write(zeros)
    tail = (np.arange(2 * BLOCK * CHANNELS).reshape(-1, CHANNELS) / 2**24).astype(np.float32)
    take.write(tail)  # the frames that pass the limit, each one different
    take.close()
    frames = blocks * BLOCK + len(tail)

    found = chunks(path)
    assert found[b"header"] == b"RF64WAVE" and take.container == "RF64"
    riff_size, data_size = struct.unpack("<QQ", found[b"ds64"][:16])
    assert data_size == frames * CHANNELS * 4 > LIMIT
    assert riff_size == path.stat().st_size - 8
    info = sf.info(str(path))
    assert (info.format, info.frames) == ("RF64", frames)
    with sf.SoundFile(str(path)) as file:  # the frames past 4 GiB read back exactly
        file.seek(frames - len(tail))
        assert np.array_equal(file.read(dtype="float32"), tail)
