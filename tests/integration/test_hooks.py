"""Hooks on a real JACK server: ``jackrec record`` and the service run them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import soundfile as sf

from jackrec import counter, events
from jackrec.source import SourceProcess
from tests.conftest import RATE, run_jackrec
from tests.integration.test_service import Running, settings


def hook(path: Path, log: Path, name: str) -> Path:
    """A hook that notes its arguments, its environment's figures and the sidecar."""
    path.write_text(
        "#!/bin/sh\n"
        f'printf \'{{"hook": "{name}", "args": "%s", "event": "%s", "frames": "%s", '
        f'"ended_by": "%s", "rate": "%s", "channels": "%s", "next": "%s", '
        f'"complete": "%s"}}\\n\' "$*" "$JACKREC_EVENT" "$JACKREC_FRAMES" "$JACKREC_ENDED_BY" '
        f'"$JACKREC_SAMPLE_RATE" "$JACKREC_CHANNELS" "$JACKREC_NEXT_TAKE" '
        f'"$(grep -c \'"complete": true\' "$JACKREC_SIDECAR")" >> {log}\n'
    )
    path.chmod(0o755)
    return path


def lines(log: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_record_runs_the_start_and_close_hooks_with_the_takes_figures(
    generator: SourceProcess, tmp_path: Path
) -> None:
    log, take = tmp_path / "log", tmp_path / "take.wav"
    on_start, on_close = hook(tmp_path / "s", log, "start"), hook(tmp_path / "c", log, "close")
    result = run_jackrec(
        ["record", "--server", generator.server, "-q", "-d", "1", "-p", generator.port_names[0],
         "-p", generator.port_names[1], "--on-start", str(on_start),
         "--on-close", f"'{on_close}' extra", str(take)]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    start, close = lines(log)  # on_close was waited for before jackrec exited
    assert start["hook"] == "start" and start["args"] == str(take)
    assert (start["event"], start["rate"], start["channels"]) == ("start", str(RATE), "2")
    assert close["args"] == f"extra {take}"
    assert (close["event"], close["frames"], close["ended_by"]) == ("close", str(RATE), "duration")
    assert close["complete"] == "1"  # the sidecar was final when it ran
    assert counter.check_file(take).gapless  # the hooks took nothing from the take


def test_a_failing_hook_is_a_warning_and_the_take_is_fine(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "take.wav"
    result = run_jackrec(
        ["record", "--server", generator.server, "-d", "0.5", "-p", generator.port_names[0],
         "-p", generator.port_names[1], "--json", "--on-close", "sh -c 'echo broken >&2; exit 4'",
         str(take)]
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stderr == "jackrec: warning: on_close hook for take.wav: exit status 4: broken\n"
    assert sf.info(str(take)).frames == RATE // 2


def test_a_hook_that_cannot_be_found_is_refused_before_recording(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "take.wav"
    result = run_jackrec(
        ["record", "--server", generator.server, "--on-close", "no-such-hook-here", str(take)]
    )
    assert result.returncode == 2
    assert result.stderr == (
        "jackrec: error: on_close: 'no-such-hook-here' is not an executable command (nor on PATH)\n"
    )
    assert not take.exists()


def test_the_service_runs_the_settings_hooks_at_each_rotation(
    generator: SourceProcess, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    path = settings(
        tmp_path, generator.server, f"{generator.name}:out_[1-4]", recording='rotate = "1s"'
    )
    hooks = "".join(
        f'{name} = ["{hook(tmp_path / name, log, name)}"]\n'
        for name in ("on_start", "on_close", "on_rotate")
    )
    path.write_text(hooks + path.read_text())
    with Running(path) as running:
        running.wait_event(events.TakeFinished)
        running.wait_event(events.TakeFinished)
    deadline = time.monotonic() + 10
    while len([line for line in lines(log) if line["hook"] == "on_close"]) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    takes = sorted((tmp_path / "takes").glob("take*.wav"))
    ran = lines(log)
    assert [line["hook"] for line in ran[:4]] == ["on_start", "on_close", "on_rotate", "on_start"]
    first, second = str(takes[0]), str(takes[1])
    assert ran[2]["args"] == f"{first} {second}" and ran[2]["next"] == second
    assert (ran[2]["ended_by"], ran[2]["frames"]) == ("rotated", str(RATE))
    assert all(line["complete"] == "1" for line in ran if line["hook"] != "on_start")
    assert not any(isinstance(event, events.HookFailed) for event in running.seen)
