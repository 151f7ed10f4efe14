"""`jackrec repair` on files made unfinalized by hand, without JACK.

Each "killed" file is a take finished by jackrec's own writer whose length
fields are then set as a recorder that never finalized leaves them; the
repair must give back the finished file byte for byte, writing nothing but
those fields.  Readers: libsndfile (soundfile) and sox.
"""

from __future__ import annotations

import os
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from jackrec import counter
from jackrec.cli import main
from jackrec.repair import W64_DATA, W64_FACT, Crc16, RepairError, fix_header, repair
from jackrec.sidecar import read_sidecar, write_sidecar
from jackrec.takefile import FileFormat, TakeFile

RATE = 48000
CHANNELS = 4
FRAMES = 50000  # FLAC: 12 blocks of 4096 and one of 848
FLAC_BLOCK = 4096
UNKNOWN_LENGTH = 2**63 - 1  # what libsndfile reports for a FLAC without length
Fields = dict[int, bytes]


def counter_frames(start: int, frames: int, channels: int = CHANNELS) -> npt.NDArray[np.float32]:
    return np.stack([counter.expected(c, start, frames) for c in range(channels)], axis=1)


def finished_take(
    path: Path, container: str, subtype: str, frames: int = FRAMES, channels: int = CHANNELS
) -> bytes:
    """A take of the counter signal, written and finalized by jackrec's writer."""
    take = TakeFile.create(path, FileFormat(container, subtype), channels, RATE)
    take.write(counter_frames(0, frames, channels))
    take.close()
    return path.read_bytes()


# How recorders that were cut off leave the length fields (offset -> bytes).


def killed_wav(data: bytes) -> Fields:
    """As jack_capture leaves it: RIFF size 8, data size 0, fact 0."""
    data_chunk = data.index(b"data")
    fields = {4: struct.pack("<I", 8), data_chunk + 4: struct.pack("<I", 0)}
    if b"fact" in data[:data_chunk]:
        fields[data.index(b"fact") + 8] = struct.pack("<I", 0)
    return fields


def killed_rf64(data: bytes) -> Fields:
    """ds64's RIFF size, data size and sample count as before the first frame."""
    return {data.index(b"ds64") + 8: bytes(24)}


def killed_w64(data: bytes) -> Fields:
    """riff and data sizes covering the header only, fact 0."""
    data_chunk = data.index(W64_DATA)
    return {
        16: struct.pack("<Q", data_chunk + 24),
        data_chunk + 16: struct.pack("<Q", 24),
        data.index(W64_FACT) + 24: struct.pack("<Q", 0),
    }


def killed_caf(data: bytes) -> Fields:
    """Data size -1: "runs to the end of the file"."""
    return {data.index(b"data") + 4: struct.pack(">q", -1)}


def killed_flac(data: bytes) -> Fields:
    """STREAMINFO total samples 0 (unknown): its low 36 bits, bytes 21 to 25."""
    return {21: bytes([data[21] & 0xF0, 0, 0, 0, 0])}


CASES: dict[str, tuple[str, str, Callable[[bytes], Fields]]] = {
    "wav": ("WAV", "FLOAT", killed_wav),
    "rf64": ("RF64", "PCM_24", killed_rf64),
    "w64": ("W64", "FLOAT", killed_w64),
    "caf": ("CAF", "PCM_16", killed_caf),
    "flac16": ("FLAC", "PCM_16", killed_flac),
    "flac24": ("FLAC", "PCM_24", killed_flac),
}
EXTENSIONS = {"WAV": "wav", "RF64": "rf64", "W64": "w64", "CAF": "caf", "FLAC": "flac"}


def with_fields(data: bytes, fields: Fields) -> bytes:
    changed = bytearray(data)
    for offset, value in fields.items():
        changed[offset : offset + len(value)] = value
    assert changed != data
    return bytes(changed)


def changed_offsets(before: bytes, after: bytes) -> set[int]:
    assert len(before) == len(after)
    return {i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}


def field_offsets(fields: Fields) -> set[int]:
    return {offset + i for offset, value in fields.items() for i in range(len(value))}


def sox_samples(path: Path) -> npt.NDArray[np.float32]:
    """Every sample sox decodes from `path` (as float, like libsndfile's here)."""
    result = subprocess.run(
        ["sox", "-V1", str(path), "-t", "raw", "-e", "floating-point", "-b", "32", "-"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    return np.frombuffer(result.stdout, "<f4")


def readers_frames(path: Path) -> tuple[int, int]:
    """Frames as libsndfile and sox see them."""
    return int(sf.info(str(path)).frames), len(sox_samples(path)) // CHANNELS


def run(capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, list[str], list[str]]:
    """`jackrec repair FILES`: exit status, stdout lines, stderr lines."""
    status = main(["repair", *map(str, files)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def killed_take(tmp_path: Path, case: str) -> tuple[Path, bytes, Fields]:
    """A finished take of `case` with its length fields as a killed writer leaves them."""
    container, subtype, kill = CASES[case]
    path = tmp_path / f"take.{EXTENSIONS[container]}"
    finished = finished_take(path, container, subtype)
    fields = kill(finished)
    path.write_bytes(with_fields(finished, fields))
    return path, finished, fields


@pytest.mark.parametrize("case", CASES)
def test_a_killed_take_comes_back_as_it_was_finished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    path, finished, fields = killed_take(tmp_path, case)
    killed = path.read_bytes()

    status, out, err = run(capsys, path)

    assert status == 0 and err == []
    said = "unknown" if case in ("caf", "flac16", "flac24") else "0"
    assert out == [f"{path}: repaired: {FRAMES} frames (header said {said})"]
    repaired = path.read_bytes()
    assert repaired == finished
    assert changed_offsets(killed, repaired) <= field_offsets(fields)
    data, _ = sf.read(str(path), dtype="float32")
    assert len(data) == FRAMES and counter.check(data).gapless
    assert len(sox_samples(path)) == data.size  # (sox reads float W64 with other values)
    assert not Path(f"{path}.json").exists()  # no sidecar made up for it


@pytest.mark.parametrize("case", ["wav", "w64"])
def test_frames_written_after_the_last_header_update_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    container, subtype, _ = CASES[case]
    path = tmp_path / f"take.{EXTENSIONS[container]}"
    finished_take(path, container, subtype)
    with open(path, "ab") as file:  # frames written, header not yet updated
        file.write(counter_frames(FRAMES, 1000).astype("<f4").tobytes())

    status, out, _ = run(capsys, path)

    assert status == 0
    assert out == [f"{path}: repaired: {FRAMES + 1000} frames (header said {FRAMES})"]
    data, _ = sf.read(str(path), dtype="float32")
    assert len(data) == FRAMES + 1000 and counter.check(data).gapless
    assert len(sox_samples(path)) == data.size


@pytest.mark.parametrize("case", ["wav", "rf64", "w64", "caf"])
def test_a_partial_last_frame_is_left_outside_the_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    path, finished, _ = killed_take(tmp_path, case)
    partial = b"\x01\x02\x03\x04\x05"  # less than a frame of 4 channels
    with open(path, "ab") as file:
        file.write(partial)

    status, out, _ = run(capsys, path)

    assert status == 0
    assert out[0].endswith(f"(header said {'unknown' if case == 'caf' else '0'}; "
                           f"a partial last frame ({len(partial)} bytes) left out)")  # fmt: skip
    assert path.read_bytes() == finished + partial
    assert readers_frames(path) == (FRAMES, FRAMES)


def test_an_odd_sized_data_chunk_keeps_its_pad_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mono.wav"
    finished = finished_take(path, "WAV", "PCM_24", frames=3, channels=1)
    assert len(finished) % 2 == 0 and struct.unpack_from("<I", finished, 4)[0] == len(finished) - 8
    path.write_bytes(with_fields(finished, killed_wav(finished)))

    assert run(capsys, path)[1] == [f"{path}: repaired: 3 frames (header said 0)"]
    assert path.read_bytes() == finished


def torn_flac(tmp_path: Path, subtype: str, cut: Callable[[bytes, int], int]) -> Path:
    """A finished FLAC cut at ``cut(data, start of its last frame)``."""
    path = tmp_path / "torn.flac"
    finished = finished_take(path, "FLAC", subtype)
    last_frame = finished.rfind(b"\xff\xf8")
    assert finished[last_frame + 4] == FRAMES // FLAC_BLOCK  # its frame number
    path.write_bytes(finished[: cut(finished, last_frame)])
    return path


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
@pytest.mark.parametrize(
    "cut",
    [
        lambda data, last: (last + len(data)) // 2,  # in the middle of the last frame
        lambda data, last: len(data) - 1,  # its CRC-16 cut short
        lambda data, last: last + 3,  # in its header
    ],
    ids=["mid-frame", "crc", "header"],
)
def test_a_torn_flac_frame_is_dropped_and_the_rest_is_exact(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    subtype: str,
    cut: Callable[[bytes, int], int],
) -> None:
    path = torn_flac(tmp_path, subtype, cut)
    torn = path.read_bytes()
    whole = FRAMES // FLAC_BLOCK * FLAC_BLOCK  # the frames before the torn one

    status, out, _ = run(capsys, path)

    assert status == 0
    assert out[0].startswith(f"{path}: repaired: {whole} frames (header said {FRAMES}; a torn")
    repaired = path.read_bytes()
    # Only the total samples (low 36 bits of STREAMINFO bytes 10..17) and
    # the MD5 signature, which is of the audio no longer all there.
    assert changed_offsets(torn, repaired) <= set(range(21, 26)) | set(range(26, 42))
    assert repaired[26:42] == bytes(16)
    data, _ = sf.read(str(path), dtype="float32")
    assert np.array_equal(data, counter_frames(0, whole))
    assert np.array_equal(sox_samples(path), data.ravel())


def test_a_flac_cut_between_frames_keeps_every_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = torn_flac(tmp_path, "PCM_24", lambda data, last: last)
    whole = FRAMES // FLAC_BLOCK * FLAC_BLOCK
    assert run(capsys, path)[1] == [f"{path}: repaired: {whole} frames (header said {FRAMES})"]
    assert readers_frames(path) == (whole, whole)


@pytest.mark.parametrize("case", CASES)
def test_complete_files_are_not_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    container, subtype, _ = CASES[case]
    path = tmp_path / f"take.{EXTENSIONS[container]}"
    finished = finished_take(path, container, subtype)
    before = path.stat()

    status, out, _ = run(capsys, path, path)

    assert status == 0
    assert out == [f"{path}: consistent, left as it is ({FRAMES} frames)"] * 2
    assert path.read_bytes() == finished
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_a_wav_finalized_with_chunks_after_its_data_is_not_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "list.wav"
    finished = finished_take(path, "WAV", "PCM_16")
    info = b"LIST" + struct.pack("<I", 4) + b"INFO"
    riff_size = struct.unpack_from("<I", finished, 4)[0] + len(info)
    listed = finished[:4] + struct.pack("<I", riff_size) + finished[8:] + info
    path.write_bytes(listed)

    assert run(capsys, path)[1] == [f"{path}: consistent, left as it is ({FRAMES} frames)"]
    assert path.read_bytes() == listed


def test_a_take_whose_sidecar_says_complete_is_not_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, _ = killed_take(tmp_path, "flac24")
    write_sidecar(path, {"complete": True, "frames": 7})
    killed, sidecar = path.read_bytes(), Path(f"{path}.json").read_bytes()
    before = path.stat()

    assert run(capsys, path) == (0, [f"{path}: complete, left as it is"], [])
    assert path.read_bytes() == killed and Path(f"{path}.json").read_bytes() == sidecar
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_the_sidecar_is_completed_and_keeps_its_other_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, finished, _ = killed_take(tmp_path, "flac16")
    sidecar = {"complete": False, "frames": 0, "sample_rate": RATE, "markers": [{"frame": 5}]}
    write_sidecar(path, sidecar)

    status, out, _ = run(capsys, path)

    assert status == 0
    assert out == [f"{path}: repaired: {FRAMES} frames (header said unknown; sidecar updated)"]
    assert path.read_bytes() == finished
    assert read_sidecar(path) == {**sidecar, "complete": True, "frames": FRAMES, "repaired": True}
    assert run(capsys, path)[1] == [f"{path}: complete, left as it is"]


def test_a_take_whose_header_was_right_gets_its_sidecar_completed(tmp_path: Path) -> None:
    # A WAV killed after a header update: libsndfile's file is consistent.
    path = tmp_path / "take.wav"
    finished = finished_take(path, "WAV", "FLOAT")
    write_sidecar(path, {"complete": False, "frames": 0})

    result = repair(path)

    assert result.describe() == f"repaired: {FRAMES} frames (header was right; sidecar updated)"
    assert path.read_bytes() == finished
    assert read_sidecar(path) == {"complete": True, "frames": FRAMES, "repaired": True}


def test_fix_header_returns_the_frames_and_leaves_the_sidecar(tmp_path: Path) -> None:
    path, finished, _ = killed_take(tmp_path, "flac24")
    write_sidecar(path, {"complete": False, "frames": 0})
    assert fix_header(path) == FRAMES
    assert path.read_bytes() == finished
    assert read_sidecar(path) == {"complete": False, "frames": 0}


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files repair must refuse, with the reason it gives."""
    finished = finished_take(tmp_path / "source.wav", "WAV", "FLOAT")
    flac = finished_take(tmp_path / "source.flac", "FLAC", "PCM_16")
    (tmp_path / "directory").mkdir()
    (tmp_path / "notes.txt").write_text("a text file, not a take\n")
    (tmp_path / "header.wav").write_bytes(finished[:30])
    (tmp_path / "noframe.flac").write_bytes(flac[: flac.index(b"\xff\xf8")])
    (tmp_path / "empty.caf").write_bytes(b"")
    os.mkfifo(tmp_path / "fifo.wav")
    return {
        "directory": (tmp_path / "directory", "a directory, not a sound file"),
        "missing": (tmp_path / "missing.wav", "cannot read it: No such file or directory"),
        "text": (tmp_path / "notes.txt", "not a WAV, RF64, W64, CAF or FLAC file"),
        "header": (tmp_path / "header.wav", "no data chunk: the header is cut short"),
        "noframe": (tmp_path / "noframe.flac", "no whole FLAC frame: the take holds no audio"),
        "empty": (tmp_path / "empty.caf", "an empty file, not a sound file"),
        "fifo": (tmp_path / "fifo.wav", "not a regular file, not a sound file"),
    }


def test_bad_input_is_one_line_each_and_the_others_are_still_repaired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = bad_inputs(tmp_path)
    contents = {path: path.read_bytes() for path, _ in bad.values() if path.is_file()}
    good, finished, _ = killed_take(tmp_path, "caf")

    status, out, err = run(capsys, *(path for path, _ in bad.values()), good)

    assert status == 1
    assert err == [f"jackrec: error: {path}: {reason}" for path, reason in bad.values()]
    assert out == [f"{good}: repaired: {FRAMES} frames (header said unknown)"]
    assert good.read_bytes() == finished
    assert {path: path.read_bytes() for path in contents} == contents


def test_an_unreadable_sidecar_stops_the_repair_before_anything_is_written(
    tmp_path: Path,
) -> None:
    path, _, _ = killed_take(tmp_path, "flac16")
    Path(f"{path}.json").write_text("{ not json")
    killed = path.read_bytes()
    with pytest.raises(RepairError, match="cannot read its sidecar: not JSON"):
        repair(path)
    assert path.read_bytes() == killed


def reference_crc16(message: bytes) -> int:
    """FLAC's CRC-16 bit by bit, as its specification states it."""
    crc = 0
    for byte in message:
        crc ^= byte << 8
        for _ in range(8):
            crc = (crc << 1 ^ 0x8005 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def test_crc16_check_value() -> None:
    assert Crc16()(b"123456789") == 0xFEE8  # CRC-16/BUYPASS, FLAC's
    assert Crc16()(b"") == 0


@given(st.binary(max_size=3000))
def test_crc16_agrees_with_the_bitwise_definition(message: bytes) -> None:
    crc = Crc16()
    assert crc(message) == reference_crc16(message)
    assert crc(message + reference_crc16(message).to_bytes(2, "big")) == 0
