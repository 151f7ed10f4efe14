"""Split takes' groups and file names (`jackrec.split`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jackrec.split import check_split, file_paths, groups_of, label_of, safe_name, widest


def test_modes_and_groups() -> None:
    assert groups_of("mono", 3, 1024) == ((0, 1), (1, 2), (2, 3))
    assert groups_of("pairs", 5, 1024) == ((0, 2), (2, 4), (4, 5))
    assert groups_of("1-2,3-8,9-64", 64, 1024) == ((0, 2), (2, 8), (8, 64))
    assert groups_of("1-2, 3 - 8, 9", 9, 1024) == ((0, 2), (2, 8), (8, 9))
    # groups beyond the take's channels are cut or left out
    assert groups_of("1-2,3-8,9-64", 5, 1024) == ((0, 2), (2, 5))


def test_without_split_a_take_wider_than_its_format_is_split() -> None:
    assert groups_of(None, 8, 8) is None
    assert groups_of(None, 20, 8) == ((0, 8), (8, 16), (16, 20))
    assert groups_of(None, 2048, 1024) == ((0, 1024), (1024, 2048))
    assert widest(None, 20) == 20 and widest(((0, 8), (8, 20)), 20) == 12


@pytest.mark.parametrize(
    ("split", "channels", "message"),
    [
        ("1-2,4-8", 8, "groups must follow one another from channel 1 (next: 3)"),
        ("2-4", 4, "next: 1"),
        ("3-2", 4, "from channel 1"),
        ("a-b", 4, "'a-b' is not a channel"),
        ("", 4, "name groups like"),
        ("1-2", 4, "groups cover channels 1-2; the take has 4"),
        ("1-9,10", 10, "group 1-9 is wider than the 8 channels"),
    ],
)
def test_bad_splits(split: str, channels: int, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_split(split)
        groups_of(split, channels, 8)


def test_names_are_safe_and_labelled() -> None:
    assert safe_name("system:capture_1") == "system_capture_1"
    assert safe_name("../Kick drum ü/") == "Kick_drum"
    assert label_of(("synth:L", "synth:R")) == "synth"
    assert label_of(("a:x", "b:y")) == ""
    paths = file_paths(
        Path("/r/take-001.wav"), ((0, 2), (2, 3), (3, 4)), ("mix:L", "mix:R", "Vox 1", "b:x"), 255
    )
    assert [p.name for p in paths] == [
        "take-001_01-02_mix.wav",
        "take-001_03_Vox_1.wav",
        "take-001_04_b_x.wav",
    ]
    # numbers as wide as the last channel's
    wide = file_paths(Path("t.flac"), ((0, 8), (8, 1000)), ("x",) * 1000, 255)
    assert [p.name for p in wide] == ["t_0001-0008_x.flac", "t_0009-1000_x.flac"]


def test_labels_are_cut_to_fit_the_file_system() -> None:
    (path,) = file_paths(Path("take.wav"), ((0, 1),), ("n" * 300,), 40)
    assert len(path.name) == 40  # as long as the file system allows, no longer
    assert path.name.startswith("take_01_nnn") and path.name.endswith(".wav")
