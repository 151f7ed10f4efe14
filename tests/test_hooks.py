"""Hooks without JACK: which events run what, how, and how failures are told.

The runner is fed the events a session announces (`TakeStarted`,
`TakeFinished`); the hooks are small shell scripts written by the tests.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jackrec import events, hooks
from jackrec.config import Config
from jackrec.errors import UsageError
from jackrec.hooks import HookRunner, check_hooks
from jackrec.sidecar import create_sidecar
from jackrec.signals import STOP_SIGNALS

WAIT = 10.0
RunnerFor = Callable[[Config], HookRunner]


class Announced:
    """The events a runner announces (its own thread's)."""

    def __init__(self) -> None:
        self.events: list[events.Event] = []
        self._lock = threading.Lock()

    def __call__(self, event: events.Event) -> None:
        with self._lock:
            self.events.append(event)

    def failures(self) -> list[events.HookFailed]:
        with self._lock:
            return [e for e in self.events if isinstance(e, events.HookFailed)]


def script(path: Path, body: str) -> list[str]:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return [str(path)]


def wait_for(condition: Callable[[], object], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def announced() -> Announced:
    return Announced()


@pytest.fixture
def runner_for(announced: Announced) -> Iterator[RunnerFor]:
    started: list[HookRunner] = []

    def make(config: Config) -> HookRunner:
        runner = HookRunner(lambda: config, announced)
        runner.start()
        started.append(runner)
        return runner

    yield make
    for runner in started:
        runner.close()


def take_with_sidecar(tmp_path: Path, name: str = "take.wav") -> Path:
    take = tmp_path / name
    take.write_bytes(b"")
    create_sidecar(
        take,
        {
            "sample_rate": 48000,
            "format": "WAV",
            "subtype": "PCM_24",
            "channels": [{}, {}, {}],
            "frames_lost": 0,
            "start": {"utc": "2025-01-01T00:00:00+00:00"},
        },
    )
    return take


def test_close_hook_gets_the_take_as_argument_and_figures_in_its_environment(
    tmp_path: Path, runner_for: RunnerFor
) -> None:
    log = tmp_path / "log"
    command = script(
        tmp_path / "hook",
        f'echo "$# $1 $JACKREC_EVENT $JACKREC_FRAMES $JACKREC_ENDED_BY $JACKREC_SAMPLE_RATE '
        f'$JACKREC_CHANNELS $JACKREC_FORMAT $JACKREC_SUBTYPE $JACKREC_START_UTC" >> {log}',
    )
    take = take_with_sidecar(tmp_path)
    runner = runner_for(Config(on_close=command))
    runner.offer(events.TakeStarted(take, 0))
    runner.offer(events.TakeFinished(take, 4800, "stop request", None))
    wait_for(log.exists)
    assert log.read_text().split() == [
        "1", str(take), "close", "4800", "stop", "request", "48000", "3", "WAV", "PCM_24",
        "2025-01-01T00:00:00+00:00",
    ]  # fmt: skip


def test_rotation_runs_close_then_rotate_with_both_takes_then_start(
    tmp_path: Path, runner_for: RunnerFor
) -> None:
    log = tmp_path / "log"
    config = Config(
        on_start=script(tmp_path / "s", f'echo "start $*" >> {log}'),
        on_close=script(tmp_path / "c", f'echo "close $*" >> {log}'),
        on_rotate=script(tmp_path / "r", f'echo "rotate $* $JACKREC_NEXT_TAKE" >> {log}'),
    )
    first, second = tmp_path / "1.wav", tmp_path / "2.wav"
    runner = runner_for(config)
    runner.offer(events.TakeStarted(first, 0))
    runner.offer(events.TakeFinished(first, 100, events.ROTATED, None))
    runner.offer(events.TakeStarted(second, 100))
    runner.offer(events.TakeFinished(second, 50, "stop request", None))
    wait_for(lambda: log.exists() and len(log.read_text().splitlines()) == 5)
    assert log.read_text().splitlines() == [
        f"start {first}",
        f"close {first}",
        f"rotate {first} {second} {second}",
        f"start {second}",
        f"close {second}",
    ]


def test_relative_take_paths_reach_the_hook_absolute(
    tmp_path: Path, runner_for: RunnerFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "log"
    runner = runner_for(Config(on_start=script(tmp_path / "s", f'echo "$1" > {log}')))
    runner.offer(events.TakeStarted(Path("take.wav"), 0))
    wait_for(lambda: log.exists() and log.read_text())
    assert log.read_text().strip() == str(tmp_path / "take.wav")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("echo 'no such bucket' >&2; exit 3", "exit status 3: no such bucket"),
        ("kill -KILL $$", "killed by SIGKILL"),
    ],
)
def test_a_failing_hook_is_an_event(
    tmp_path: Path, runner_for: RunnerFor, announced: Announced, body: str, reason: str
) -> None:
    take = tmp_path / "t.wav"
    runner = runner_for(Config(on_close=script(tmp_path / "h", body)))
    runner.offer(events.TakeFinished(take, 1, "stop request", None))
    wait_for(announced.failures)
    (failure,) = announced.failures()
    assert (failure.hook, failure.path, failure.reason) == ("on_close", take, reason)
    assert failure.text == f"on_close hook for t.wav: {reason}"
    assert events.from_json(failure.to_json()) == failure


def test_a_command_that_vanished_is_an_event(
    tmp_path: Path, runner_for: RunnerFor, announced: Announced
) -> None:
    runner = runner_for(Config(on_start=[str(tmp_path / "gone")]))
    runner.offer(events.TakeStarted(tmp_path / "t.wav", 0))
    wait_for(announced.failures)
    assert announced.failures()[0].reason.startswith(f"cannot run {tmp_path / 'gone'}: ")


def test_a_hook_past_its_time_is_stopped(
    tmp_path: Path, runner_for: RunnerFor, announced: Announced
) -> None:
    pid_file = tmp_path / "pid"
    command = script(tmp_path / "h", f"echo $$ > {pid_file}; exec sleep 60")
    runner = runner_for(Config(on_close=command, hook_timeout=0.5))
    began = time.monotonic()
    runner.offer(events.TakeFinished(tmp_path / "t.wav", 1, "stop request", None))
    wait_for(announced.failures)
    assert announced.failures()[0].reason == "timed out after 0.5 s: stopped"
    assert time.monotonic() - began < 0.5 + hooks.KILL_GRACE_SECONDS  # SIGTERM was enough
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_the_hook_does_not_inherit_the_blocked_stop_signals(
    tmp_path: Path, runner_for: RunnerFor, announced: Announced
) -> None:
    """jackrec blocks SIGINT, SIGTERM and SIGHUP in every thread; a hook must not.

    The hook is Python, not a shell script: dash clears its signal mask as it
    starts, which would hide an inherited one (and Python ignores SIGPIPE
    itself, so that is checked with a shell, below).
    """
    pid_file, mask = tmp_path / "pid", tmp_path / "mask"
    command = [
        sys.executable, "-c",
        "import os, pathlib, re, time\n"
        "status = pathlib.Path('/proc/self/status').read_text()\n"
        f"pathlib.Path('{mask}').write_text(re.search(r'SigBlk:\\s*(\\w+)', status)[1])\n"
        f"pathlib.Path('{pid_file}').write_text(str(os.getpid()))\n"
        "time.sleep(60)\n",
    ]  # fmt: skip
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # as jackrec does
    try:
        runner = runner_for(Config(on_close=command))  # inherits it
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    runner.offer(events.TakeFinished(tmp_path / "t.wav", 1, "stop request", None))
    wait_for(lambda: pid_file.exists() and pid_file.read_text())
    os.kill(int(pid_file.read_text()), signal.SIGTERM)
    wait_for(announced.failures)
    assert announced.failures()[0].reason == "killed by SIGTERM"
    assert int(mask.read_text(), 16) == 0  # nothing blocked


def test_the_hook_does_not_inherit_ignored_signals(tmp_path: Path, runner_for: RunnerFor) -> None:
    """Python ignores SIGPIPE and SIGXFSZ; a shell keeps what it was given ignored."""
    ignored = tmp_path / "ignored"
    command = script(tmp_path / "h", f"grep SigIgn /proc/$$/status > {ignored}")
    runner = runner_for(Config(on_close=command))
    runner.offer(events.TakeFinished(tmp_path / "t.wav", 1, "stop request", None))
    wait_for(lambda: ignored.exists() and ignored.read_text())
    mask = int(ignored.read_text().split()[1], 16)
    assert not mask & (1 << (signal.SIGPIPE - 1) | 1 << (signal.SIGXFSZ - 1))


def test_the_hook_gets_no_descriptor_of_jackrec_but_stdin_stdout_stderr(
    tmp_path: Path, runner_for: RunnerFor
) -> None:
    opened = os.open(tmp_path, os.O_RDONLY)
    leaked = os.dup2(opened, 200, inheritable=True)  # as a C library might leave one
    os.close(opened)
    fds = tmp_path / "fds"
    command = [
        sys.executable, "-c",
        "import os; found = os.listdir('/proc/self/fd'); "
        f"open('{fds}', 'w').write(' '.join(found))",
    ]  # fmt: skip
    try:
        runner = runner_for(Config(on_start=command))
        runner.offer(events.TakeStarted(tmp_path / "t.wav", 0))
        wait_for(lambda: fds.exists() and fds.read_text())
    finally:
        os.close(leaked)
    found = set(fds.read_text().split())
    assert {"0", "1", "2"} <= found
    assert str(leaked) not in found


def test_offer_never_waits_for_a_hook_and_a_full_queue_drops_and_says_so(
    tmp_path: Path, announced: Announced
) -> None:
    config = Config(on_start=script(tmp_path / "h", "sleep 0.2"))
    runner = HookRunner(lambda: config, announced)  # not started: nothing drains the queue
    began = time.monotonic()
    for n in range(hooks.QUEUE_SIZE + 3):
        runner.offer(events.TakeStarted(tmp_path / f"{n}.wav", n))
    assert time.monotonic() - began < 0.5
    dropped = announced.failures()
    assert [failure.path.name for failure in dropped] == [
        f"{n}.wav" for n in range(hooks.QUEUE_SIZE, hooks.QUEUE_SIZE + 3)
    ]
    assert "not run" in dropped[0].reason


def test_exit_waits_a_bounded_time_then_leaves_the_hook_running(
    tmp_path: Path, announced: Announced, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hooks, "EXIT_WAIT_SECONDS", 0.5)
    pid_file, done = tmp_path / "pid", tmp_path / "done"
    command = script(tmp_path / "h", f"echo $$ > {pid_file}; sleep 1.5; touch {done}")
    config = Config(on_close=command)
    runner = HookRunner(lambda: config, announced)
    runner.start()
    runner.offer(events.TakeFinished(tmp_path / "t.wav", 1, "stop request", None))
    began = time.monotonic()
    runner.close()
    assert 0.4 < time.monotonic() - began < 1.5
    assert announced.failures()[0].reason == "still running when jackrec exited: left running"
    wait_for(done.exists)  # it went on and finished
    os.waitpid(int(pid_file.read_text()), 0)  # ours to reap, since this process lives on


def test_exit_waits_for_a_quick_hook(tmp_path: Path, announced: Announced) -> None:
    done = tmp_path / "done"
    config = Config(on_close=script(tmp_path / "h", f"sleep 0.3; touch {done}"))
    runner = HookRunner(lambda: config, announced)
    runner.start()
    runner.offer(events.TakeFinished(tmp_path / "t.wav", 1, "stop request", None))
    runner.close()
    assert done.exists()
    assert announced.failures() == []


def test_settings_changed_apply_from_the_next_event(tmp_path: Path, runner_for: RunnerFor) -> None:
    log = tmp_path / "log"
    config = Config()
    holder = [config]
    runner = HookRunner(lambda: holder[0], lambda event: None)
    runner.start()
    try:
        runner.offer(events.TakeStarted(tmp_path / "1.wav", 0))  # no hook yet
        holder[0] = Config(on_start=script(tmp_path / "h", f'echo "$1" >> {log}'))
        runner.offer(events.TakeStarted(tmp_path / "2.wav", 0))
    finally:
        runner.close()
    assert log.read_text().splitlines() == [str(tmp_path / "2.wav")]


def test_commands_that_cannot_be_found_are_refused_up_front(tmp_path: Path) -> None:
    check_hooks(Config(on_close=["true"], on_start=["sh", "-c", "exit 0"]))
    with pytest.raises(UsageError, match="on_rotate: 'no-such-command-here' is not"):
        check_hooks(Config(on_rotate=["no-such-command-here"]))
    not_executable = tmp_path / "plain"
    not_executable.write_text("")
    with pytest.raises(UsageError, match="on_close"):
        check_hooks(Config(on_close=[str(not_executable)]))
