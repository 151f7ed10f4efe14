"""Which takes the service deletes: the oldest, past an age or a total size.

Only finished jackrec takes are ever deleted: a sound file whose sidecar
was written by jackrec and says ``"complete": true``.  Other files in the
recording directory, takes still recording (or never finalized, left for
``jackrec repair``) and the take being recorded are never touched.  A take
goes with its sidecar; a split take (`jackrec.split`) with every file its
sidecar lists.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from jackrec.sidecar import SUFFIX, sidecar_path


@dataclass(frozen=True)
class FinishedTake:
    path: Path
    modified: float  # Unix time the take was last written
    size: int  # bytes, sound files and sidecar
    files: tuple[Path, ...] = ()  # the sound files (a split take's are not `path`)


def finished_takes(directory: Path) -> list[FinishedTake]:
    """The finished jackrec takes in `directory`, oldest first."""
    takes = []
    for sidecar in directory.glob(f"*{SUFFIX}"):
        take = sidecar.with_name(sidecar.name.removesuffix(SUFFIX))
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            if not (isinstance(data, dict) and "jackrec" in data and data["complete"] is True):
                continue
            names = [entry["file"] for entry in data["files"]] if "files" in data else [take.name]
            files = tuple(directory / Path(name).name for name in names)
            infos = [path.stat() for path in files]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        size = sum(info.st_size for info in infos) + sidecar.stat().st_size
        modified = max(info.st_mtime for info in infos)
        takes.append(FinishedTake(take, modified, size, files))
    return sorted(takes, key=lambda take: take.modified)


def expired(
    takes: list[FinishedTake], now: float, max_age: float | None, max_size: int | None
) -> list[FinishedTake]:
    """The takes to delete, oldest first.

    Those older than `max_age` seconds, then the oldest of the rest while
    together they hold more than `max_size` bytes.
    """
    doomed = [take for take in takes if max_age is not None and now - take.modified > max_age]
    if max_size is not None:
        kept = [take for take in takes if take not in doomed]
        total = sum(take.size for take in kept)
        for take in kept:
            if total <= max_size:
                break
            doomed.append(take)
            total -= take.size
    return doomed


def delete(take: FinishedTake) -> None:
    """Remove the sound files, then the sidecar."""
    for path in (*(take.files or (take.path,)), sidecar_path(take.path)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
