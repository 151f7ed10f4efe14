"""Split takes: one take written as several files, one per channel or group.

``--split`` (settings key ``split``) says how:

- ``mono``: one file per channel;
- ``pairs``: channels 1-2, 3-4, ... (an odd last channel alone);
- a list of groups, ``1-2,3-8,9-64``: ranges (or single channels) of the
  take's channels, in order, from channel 1 on, each channel in exactly one
  group.  Groups beyond the channels a take has are cut or left out (the
  console may arm fewer), but every channel of a take must be in a group.

A take with more channels than its format holds (FLAC 8, WAV 1024, ...) and
no ``--split`` is split by itself into groups of as many as the format
holds.  A split take is still one take: one sidecar, one take number, one
start and end frame; every file holds the same frames, and markers, gaps and
pauses apply to all of them.

File names: ``take.wav`` split becomes ``take_01-02_synth.wav``,
``take_03_kick.wav``, ...: the take's stem, the take's channel numbers of
the file (zero-padded alike), and the channels' track name (a group's:
what their names have in common), made safe for any file system (ASCII
letters, digits, ``+ - . _``) and cut so the name fits the file system.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from jackrec.takefile import FORMATS, MAX_CHANNELS, MAX_CHANNELS_DEFAULT

MODES = ("mono", "pairs")
#: A group: take channels [start, stop), counted from 0.
Group = tuple[int, int]
RANGE = re.compile(r"(\d+)(?:-(\d+))?")
UNSAFE = re.compile(r"[^A-Za-z0-9+.-]+")


def channel_limit(format_name: str) -> int:
    """The most channels one file of `format_name` (``--format`` name) holds."""
    return MAX_CHANNELS.get(FORMATS[format_name], MAX_CHANNELS_DEFAULT)


def parse_groups(text: str) -> list[Group]:
    """The groups a ``1-2,3-8,9-64`` list names.

    Raises
    ------
    ValueError
        When an item is not a range, or the groups do not follow one another
        from channel 1.
    """
    groups: list[Group] = []
    for word in re.sub(r"\s*-\s*", "-", text.strip()).replace(",", " ").split():
        match = RANGE.fullmatch(word)
        if match is None:
            raise ValueError(f"'{word}' is not a channel or a range like 3-8")
        first, last = int(match[1]), int(match[2] or match[1])
        expected = groups[-1][1] + 1 if groups else 1
        if first != expected or last < first:
            raise ValueError(
                f"'{word}': groups must follow one another from channel 1 (next: {expected})"
            )
        groups.append((first - 1, last))
    if not groups:
        raise ValueError("name groups like 1-2,3-8,9-64, or mono, or pairs")
    return groups


def check_split(text: str) -> None:
    """Raise `ValueError` unless `text` is ``mono``, ``pairs`` or a list of groups."""
    if text not in MODES:
        parse_groups(text)


def groups_of(split: str | None, channels: int, limit: int) -> tuple[Group, ...] | None:
    """The files of a take of `channels` channels; None: one file, not split.

    `limit` is the most channels a file of the take's format holds; without
    `split` a take wider than that is split into groups of `limit`.

    Raises
    ------
    ValueError
        When a group is wider than `limit`, or the groups leave channels out.
    """
    if split is None:
        if channels <= limit:
            return None
        return tuple((a, min(a + limit, channels)) for a in range(0, channels, limit))
    if split == "mono":
        return tuple((c, c + 1) for c in range(channels))
    if split == "pairs":
        width = min(2, limit)
        return tuple((a, min(a + width, channels)) for a in range(0, channels, width))
    groups = [(a, min(b, channels)) for a, b in parse_groups(split) if a < channels]
    if groups[-1][1] < channels:
        raise ValueError(
            f"--split groups cover channels 1-{groups[-1][1]}; the take has {channels}"
        )
    for a, b in groups:
        if b - a > limit:
            raise ValueError(f"--split group {a + 1}-{b} is wider than the {limit} channels")
    return tuple(groups)


def widest(groups: tuple[Group, ...] | None, channels: int) -> int:
    """The channels of the widest file (what its format must hold)."""
    return channels if groups is None else max(b - a for a, b in groups)


def safe_name(text: str) -> str:
    """`text` with only ASCII letters, digits and ``+ - . _``, no leading dot."""
    return UNSAFE.sub("_", text).strip("._-")


def label_of(names: tuple[str, ...]) -> str:
    """A file's label: its one channel's name, or what a group's names begin with."""
    safe = [safe_name(name) for name in names]
    first, last = min(safe), max(safe)  # the common prefix of all is theirs
    length = next(
        (i for i, (x, y) in enumerate(zip(first, last, strict=False)) if x != y), len(first)
    )
    return safe_name(first[:length])


def file_paths(
    path: Path, groups: tuple[Group, ...], names: tuple[str, ...], name_max: int
) -> tuple[Path, ...]:
    """The files of a split take `path`, one per group.

    `names` are the take's track names; labels are cut so that each name
    has at most `name_max` bytes (the file system's limit).
    """
    digits = max(2, len(str(groups[-1][1])))
    paths = []
    for a, b in groups:
        numbers = f"{a + 1:0{digits}d}" + ("" if b - a == 1 else f"-{b:0{digits}d}")
        stem = f"{path.stem}_{numbers}"
        room = name_max - len(os.fsencode(stem + path.suffix)) - 1
        label = label_of(names[a:b])[: max(0, room)].rstrip("._-")
        name = f"{stem}_{label}" if label else stem
        paths.append(path.with_name(name + path.suffix))
    return tuple(paths)
