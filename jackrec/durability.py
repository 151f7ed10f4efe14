"""Forcing a take onto the disk: the durability interval (``sync``).

What the writer hands the kernel is safe from a killed jackrec at once,
but it reaches the disk only when the kernel writes it back: on Linux
after ``vm.dirty_expire_centisecs`` (30 s by default), later on a busy
machine.  A power cut or a kernel crash loses what was still in the page
cache, and an ext4 file written with delayed allocation may then be empty
(its blocks were never allocated).

With a sync interval the disk writer (never the JACK thread) forces each
take onto the disk that often: its headers brought up to date, then
``fdatasync`` of every file, then the sidecar written through ``fsync``
and renamed, and its directory synced, so the new names are durable too.
After each sync point the disk holds the take up to there and a sidecar
that never says more than the file holds (`jackrec.take`).  A failed sync
(a writeback error) is reported, kept in the sidecar and becomes the take's
error, and the take goes on: the sound matters more.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class SyncRecord:
    """How a take's sync points went, for its sidecar (``sync``): a disk
    whose syncs take long shows it here before it loses frames."""

    interval: float
    count: int = 0
    longest: float = 0.0  # seconds the slowest ``fdatasync`` of the take's files took
    failure: str | None = None  # the first that failed: its data may not be on the disk

    def note(self, seconds: float) -> None:
        self.count += 1
        self.longest = max(self.longest, seconds)

    def to_json(self) -> dict[str, Any]:
        return {
            "interval_seconds": self.interval,
            "syncs": self.count,
            "longest_seconds": round(self.longest, 4),
            **({} if self.failure is None else {"failure": self.failure}),
        }


def failure_text(path: Path, error: OSError) -> str:
    return f"cannot force {path} onto the disk: {error.strerror or error}"


def sync_file(path: Path) -> None:
    """``fdatasync`` a file given by name (one already closed by its writer).

    Raises
    ------
    OSError
        When it cannot be opened or the kernel reports a writeback error.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def sync_directory(path: Path) -> None:
    """``fsync`` a directory, so the names created or renamed in it are durable.

    Raises
    ------
    OSError
        As `sync_file`.
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
