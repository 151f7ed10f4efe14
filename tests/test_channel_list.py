"""Channel lists as the console's arming dialog and the control socket take them."""

from __future__ import annotations

import pytest

from jackrec.channel_list import format_channel_list, parse_channel_list


def numbers(flags: list[bool]) -> list[int]:
    return [i + 1 for i, flag in enumerate(flags) if flag]


@pytest.mark.parametrize(
    ("text", "armed"),
    [
        ("1-8, 17, 33-48", [*range(1, 9), 17, *range(33, 49)]),
        ("  5 ,3  1 - 2,", [1, 2, 3, 5]),
        ("128", [128]),
        ("4-4", [4]),
        ("ALL", list(range(1, 129))),
        ("none", []),
    ],
)
def test_lists_name_channels_and_ranges(text: str, armed: list[int]) -> None:
    assert numbers(parse_channel_list(text, 128)) == armed


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "type channels"),
        ("0", "'0' is not within channels 1 to 128"),
        ("129", "'129' is not within"),
        ("8-1", "'8-1' is not within channels 1 to 128, low to high"),
        ("1-", "'1-' is not a channel or a range"),
        ("all, 3", "'all' is not a channel"),
        ("x", "'x' is not a channel"),
    ],
)
def test_mistakes_are_named(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_channel_list(text, 128)


@pytest.mark.parametrize(
    ("armed", "text"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 14], "1-8, 11, 13-14"),
        ([16], "16"),
        ([], "none"),
        (list(range(1, 17)), "all"),
    ],
)
def test_the_armed_channels_read_back_as_the_shortest_list(armed: list[int], text: str) -> None:
    flags = [i + 1 in armed for i in range(16)]
    assert format_channel_list(flags) == text
    assert parse_channel_list(text, 16) == flags
