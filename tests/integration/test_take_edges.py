"""Takes at the edges: names the file system refuses, sidecars in the way,
a directory deleted under a take, a disk that fills up.

Each ends with one clear line and a non-zero exit, a take that reads back
with what it recorded, and a sidecar that says so; never a hang, a
traceback, an overwritten file or a stray temporary file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar, sidecar_path
from jackrec.source import SourceProcess
from tests.conftest import jackrec_command, let_it_record, run_jackrec, stop_process
from tests.integration.test_bad_input import assert_one_line_error


def record_args(generator: SourceProcess, take: Path, *options: str) -> list[str]:
    return ["record", "--server", generator.server, "-p", f"{generator.name}:out_[1-4]",
            "-q", *options, str(take)]  # fmt: skip


@pytest.mark.parametrize("length", [250, 251, 255])
def test_names_are_checked_for_the_sidecar_too(
    generator: SourceProcess, tmp_path: Path, length: int
) -> None:
    """Every name up to NAME_MAX (255) fits the take; its sidecar adds 5 bytes."""
    take = tmp_path / ("x" * (length - 4) + ".wav")
    result = run_jackrec(record_args(generator, take, "--duration", "1"), timeout=20)
    if length + len(".json") <= 255:
        assert result.returncode == 0, result.stderr
        assert read_sidecar(take)["complete"] is True
        assert sorted(tmp_path.iterdir()) == [take, sidecar_path(take)]
    else:
        assert result.returncode == 1
        assert_one_line_error(result.stderr, "longer than the 255 bytes")
        assert list(tmp_path.iterdir()) == []


def test_a_directory_in_the_sidecars_place_is_refused(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "take.wav"
    sidecar_path(take).mkdir()
    result = run_jackrec(record_args(generator, take, "--duration", "1"), timeout=20)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "never overwrites a sidecar")
    assert not take.exists()


def test_an_existing_sidecar_is_never_replaced(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "take.wav"
    sidecar_path(take).write_text("notes of a take recorded elsewhere")
    result = run_jackrec(record_args(generator, take, "--duration", "1"), timeout=20)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "never overwrites a sidecar")
    assert sidecar_path(take).read_text() == "notes of a take recorded elsewhere"
    assert not take.exists()


def test_links_where_temporary_sidecars_used_to_go_are_not_followed(
    generator: SourceProcess, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    take = tmp_path / "take.wav"
    (tmp_path / f".{sidecar_path(take).name}.tmp").symlink_to(victim)
    result = run_jackrec(record_args(generator, take, "--duration", "3"), timeout=30)
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious"
    assert read_sidecar(take)["complete"] is True


def test_the_sidecar_tells_how_far_a_running_take_got(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "running.wav"
    process = subprocess.Popen(jackrec_command(*record_args(generator, take)))
    try:
        let_it_record(take, 4.5)
        running = read_sidecar(take)
        process.send_signal(signal.SIGINT)
        process.wait(20)
    finally:
        stop_process(process)
    assert running["complete"] is False
    assert running["frames"] >= 2 * 48000  # brought up to date at least every 2 s
    assert read_sidecar(take)["frames"] >= running["frames"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["running.wav", "running.wav.json"]


@pytest.mark.parametrize("stop", ["duration", "SIGINT"])
def test_a_directory_deleted_under_a_take_is_an_error(
    generator: SourceProcess, tmp_path: Path, stop: str
) -> None:
    directory = tmp_path / "gone"
    directory.mkdir()
    take = directory / "take.wav"
    options = ["--duration", "5"] if stop == "duration" else []
    process = subprocess.Popen(
        jackrec_command(*record_args(generator, take, *options)),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        let_it_record(take, 0.5)
        shutil.rmtree(directory)
        if stop == "SIGINT":
            process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    finally:
        stop_process(process)
    assert process.returncode == 1
    assert_one_line_error(stderr, f"{take} was deleted while recording")


def run_on_a_small_disk(command: list[str], disk: Path, size: str, copy_to: Path) -> int:
    """Run `command` with a tmpfs of `size` mounted on `disk`, then copy it out.

    The tmpfs lives in a mount namespace of its own: nothing outside it
    sees the mount, and it vanishes with the command.
    """
    script = (
        'mount -t tmpfs -o size="$1" jackrec-full "$2" || exit 99; disk=$2; copy=$3; shift 3; '
        '"$@"; status=$?; cp -a "$disk/." "$copy/"; exit $status'
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private",
         "sh", "-c", script, "sh", size, str(disk), str(copy_to), *command],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if result.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    sys.stderr.write(result.stderr)
    (copy_to / "stderr").write_text(result.stderr)
    return result.returncode


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small disk needs root")
@pytest.mark.parametrize(("name", "size"), [("full.wav", "1m"), ("full.flac", "128k")])
def test_a_full_disk_ends_the_take_finalized_and_says_why(
    generator: SourceProcess, tmp_path: Path, name: str, size: str
) -> None:
    """The take ends readable with every frame that reached the disk.

    FLAC too: its encoder cannot finish on a full disk (the STREAMINFO was
    left without a length, and libsndfile could not read the take); the
    writer then mends the header as ``jackrec repair`` does.
    """
    disk, saved = tmp_path / "disk", tmp_path / "saved"
    disk.mkdir()
    saved.mkdir()
    options = ["--duration", "30", "-p", f"{generator.name}:out_[5-8]"]
    status = run_on_a_small_disk(
        jackrec_command(*record_args(generator, disk / name, *options)), disk, size, saved
    )
    stderr = (saved / "stderr").read_text()
    (saved / "stderr").unlink()
    assert status == 1
    assert_one_line_error(stderr, "No space left on device")
    assert sorted(p.name for p in saved.iterdir()) == [name, f"{name}.json"]
    data, _ = sf.read(str(saved / name), dtype="float32")
    assert len(data) > 48000 // 4 and counter.check(data).gapless
    sidecar = read_sidecar(saved / name)
    assert sidecar["complete"] is True and sidecar["ended_by"] == "write error"
    assert sidecar["frames"] == len(data)
    assert sidecar["error"].startswith("No space left on device")
