"""The durability interval inside a take: what is synced, in which order,
and a writeback error that stays the take's (`jackrec.durability`)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from jackrec import take as take_module
from jackrec.sidecar import read_sidecar
from jackrec.take import Take, TakeInfo
from jackrec.takefile import FileFormat

RATE = 48000


def new_take(path: Path, sync_seconds: float | None) -> Take:
    info = TakeInfo(
        path, FileFormat("WAV", "FLOAT"), (0, 1), ("in_1", "in_2"), ((), ()), RATE, 256,
        sync_seconds=sync_seconds,
    )  # fmt: skip
    take = Take.create(info)
    take.begin(0, None, None)
    return take


def test_every_interval_the_sound_then_the_sidecar_reach_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_fdatasync, real_fsync = os.fdatasync, os.fsync

    def fdatasync(fd: int) -> None:
        calls.append(f"fdatasync {os.readlink(f'/proc/self/fd/{fd}')}")
        real_fdatasync(fd)

    def fsync(fd: int) -> None:
        calls.append(f"fsync {os.readlink(f'/proc/self/fd/{fd}')}")
        real_fsync(fd)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(os, "fsync", fsync)
    take = new_take(tmp_path / "take.wav", sync_seconds=0.5)
    begun, calls[:] = list(calls), []
    take.write(np.zeros((RATE, 2), np.float32))
    take.update_progress()
    assert calls == []  # not due yet
    take._synced -= 0.5
    take.update_progress()
    synced, calls[:] = list(calls), []
    take.finish("stop request")
    for sequence in (begun, synced, calls):
        # the sound, then the sidecar's content, then its name in the directory
        assert sequence[0] == f"fdatasync {tmp_path / 'take.wav'}"
        assert sequence[1].startswith(f"fsync {tmp_path}/.jackrec-")
        assert sequence[2] == f"fsync {tmp_path}"
    assert read_sidecar(take.path)["sync"] == {
        "interval_seconds": 0.5,
        "syncs": 3,  # begun, due, finalized
        "longest_seconds": pytest.approx(0.0, abs=1.0),
    }


def test_a_writeback_error_stays_the_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failures = [OSError(errno.EIO, os.strerror(errno.EIO))]

    def fdatasync(fd: int) -> None:
        if failures:  # Linux reports a writeback error once; the next call succeeds
            raise failures.pop()

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    take = new_take(tmp_path / "take.wav", sync_seconds=0.5)
    assert take.progress_error == f"cannot force {take.path} onto the disk: Input/output error"
    take._synced -= 0.5
    take.update_progress()  # succeeds, and the loss is still told
    assert take.progress_error is not None
    take.finish("stop request")
    sidecar = read_sidecar(take.path)
    assert sidecar["error"] == sidecar["sync"]["failure"] == take.progress_error


def test_without_an_interval_nothing_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int) -> None:
        raise AssertionError("synced")

    monkeypatch.setattr(os, "fdatasync", refuse)
    monkeypatch.setattr(os, "fsync", refuse)
    monkeypatch.setattr(take_module, "PROGRESS_SECONDS", 0.0)
    take = new_take(tmp_path / "take.wav", sync_seconds=None)
    take.write(np.zeros((256, 2), np.float32))
    take.update_progress()
    take.finish("stop request")
    assert "sync" not in read_sidecar(take.path)
