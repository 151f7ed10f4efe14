"""Channel lists as an engineer types them: ``1-8, 17, 33-48``, ``all``, ``none``.

Channels are numbered from 1, as the meters show them.  Items are
separated by commas or spaces; a range includes both ends.  The console's
arming dialog takes them, and so does the control socket's
``arm_channels`` (`jackrec.control`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

RANGE = re.compile(r"(\d+)(?:-(\d+))?")


def parse_channel_list(text: str, channels: int) -> list[bool]:
    """Which of `channels` the list names, one flag per channel.

    Raises
    ------
    ValueError
        Naming the item that is not a channel or range of 1 to `channels`.
    """
    words = re.sub(r"\s*-\s*", "-", text.strip().lower()).replace(",", " ").split()
    if words in (["all"], ["none"]):
        return [words == ["all"]] * channels
    if not words:
        raise ValueError("type channels (e.g. 1-8, 17), 'all' or 'none'")
    named = [False] * channels
    for word in words:
        match = RANGE.fullmatch(word)
        if match is None:
            raise ValueError(f"'{word}' is not a channel or a range like 1-8")
        first = int(match[1])
        last = int(match[2] or first)
        if not 1 <= first <= last <= channels:
            raise ValueError(f"'{word}' is not within channels 1 to {channels}, low to high")
        named[first - 1 : last] = [True] * (last - first + 1)
    return named


def format_channel_list(flags: Sequence[bool]) -> str:
    """The shortest list naming the channels whose flag is set."""
    if all(flags):
        return "all"
    runs: list[str] = []
    start = None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index + 1
        elif not flag and start is not None:
            runs.append(str(start) if start == index else f"{start}-{index}")
            start = None
    return ", ".join(runs) or "none"
