"""Hooks: commands run for each take, never in the recording's way.

Three settings (``on_start``, ``on_close``, ``on_rotate``; ``--on-start``
and so on) name commands as argument lists, run without a shell:

- ``on_start`` when a take begins (its file and first sidecar exist);
- ``on_close`` when a take is finalized (file and sidecar complete),
  however it ended: every take gets one;
- ``on_rotate`` when a take ended by rotation and the next one began.

Each runs as the command followed by the take's path (for ``on_rotate``:
the finished take's, then the next one's), with the figures in its
environment: ``JACKREC_EVENT`` (start, close, rotate), ``JACKREC_TAKE``,
``JACKREC_SIDECAR``, ``JACKREC_NEXT_TAKE`` (rotate), ``JACKREC_FRAMES``,
``JACKREC_FRAMES_LOST``, ``JACKREC_ENDED_BY``, ``JACKREC_ERROR`` (close and
rotate, of the finished take), ``JACKREC_SAMPLE_RATE``, ``JACKREC_CHANNELS``,
``JACKREC_FORMAT``, ``JACKREC_SUBTYPE``, ``JACKREC_START_UTC`` (from the
sidecar, when it has them).  Paths are absolute.

Where they run: the session announces every event in the thread where it
happens, mostly the disk writer's.  There `HookRunner.offer` only puts a job
on a bounded queue (`QUEUE_SIZE`; when it is full the job is dropped and
said so), and the runner's own thread does the rest: it reads the sidecar,
starts the command with ``posix_spawn`` and waits for it, one at a time, in
the order the takes gave them.  Nothing in the writer, the JACK threads or
the console ever waits for a hook.

How they run: in a process group of their own (a Ctrl-C at the terminal is
jackrec's to handle, not theirs), stdin from /dev/null, stdout and stderr
into a temporary file whose last line goes into the failure's message, no
file descriptor of jackrec's but those, and the default signal mask and
dispositions: jackrec blocks its stop signals in every thread
(`jackrec.signals`), and a child that inherited the block would ignore
``kill``.  A hook may run for ``hook_timeout`` seconds; then its process
group gets SIGTERM, and SIGKILL `KILL_GRACE_SECONDS` later.  A hook that
cannot start, exits non-zero, is killed by a signal or times out is a
`jackrec.events.HookFailed` event, never an error of the recording.

At exit (`HookRunner.close`) jackrec waits up to `EXIT_WAIT_SECONDS` for the
hooks queued and running (the last take's ``on_close`` among them), then
starts those still queued without waiting and leaves every one still
running alone (it is not killed: it may be copying the take somewhere),
saying so for each.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from jackrec import events
from jackrec.config import HOOKS, Config
from jackrec.errors import UsageError
from jackrec.sidecar import read_sidecar, sidecar_path

#: Jobs waiting for the runner; beyond this a take's hook is dropped.
QUEUE_SIZE = 64
#: From SIGTERM to SIGKILL for a hook past its time.
KILL_GRACE_SECONDS = 2.0
#: How long jackrec waits for its hooks at exit.
EXIT_WAIT_SECONDS = 5.0
#: Reset to their default in a hook: those Python ignores, and the stop signals.
DEFAULT_SIGNALS = (
    signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP,
)  # fmt: skip
#: The sidecar's figures a hook gets, and their environment variables.
SIDECAR_FIGURES = {
    "sample_rate": "JACKREC_SAMPLE_RATE",
    "format": "JACKREC_FORMAT",
    "subtype": "JACKREC_SUBTYPE",
    "frames_lost": "JACKREC_FRAMES_LOST",
}


def check_hooks(config: Config) -> None:
    """Refuse hooks whose command cannot be found.

    Raises
    ------
    UsageError
        Naming the setting and the command.
    """
    for hook in HOOKS:
        argv = getattr(config, hook)
        if argv and shutil.which(argv[0]) is None:
            raise UsageError(f"{hook}: '{argv[0]}' is not an executable command (nor on PATH)")


@dataclass(frozen=True)
class Job:
    """One hook to run: which, its argument list, its take, and what it is told."""

    hook: str
    argv: tuple[str, ...]
    take: Path
    env: dict[str, str]
    timeout: float


class HookRunner(threading.Thread):
    """Runs the hooks the settings name, for the events it is offered.

    Parameters
    ----------
    settings
        Returns the settings in effect (read at each event, so changed
        settings apply from the next take).
    announce
        Where `HookFailed` events go (any thread).
    """

    def __init__(
        self, settings: Callable[[], Config], announce: Callable[[events.Event], None]
    ) -> None:
        super().__init__(name="jackrec-hooks", daemon=True)
        self._settings = settings
        self._announce = announce
        self._jobs: queue.Queue[Job | None] = queue.Queue(QUEUE_SIZE)
        self._rotated: events.TakeFinished | None = None  # waits for the next take
        self._exit_by: float | None = None  # monotonic deadline, once closing
        self._wake = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)

    # ---- the event path (any thread; never blocks) ----

    def offer(self, event: events.Event) -> None:
        """Queue the hooks `event` calls for (a `TakeStarted` or `TakeFinished`)."""
        if not isinstance(event, events.TakeStarted | events.TakeFinished):
            return
        config = self._settings()
        if isinstance(event, events.TakeFinished):
            self._queue(config, "on_close", close_env(event), event.path)
            self._rotated = event if event.ended_by == events.ROTATED else None
            return
        rotated, self._rotated = self._rotated, None
        if rotated is not None:
            env = {**close_env(rotated), "JACKREC_NEXT_TAKE": str(event.path.absolute())}
            self._queue(config, "on_rotate", env, rotated.path, event.path)
        self._queue(config, "on_start", {}, event.path)

    def _queue(self, config: Config, hook: str, env: dict[str, str], *takes: Path) -> None:
        command = getattr(config, hook)
        if not command:
            return
        take = takes[0].absolute()
        env = {
            "JACKREC_EVENT": hook.removeprefix("on_"),
            "JACKREC_TAKE": str(take),
            "JACKREC_SIDECAR": str(sidecar_path(take)),
            **env,
        }
        argv = (*command, *(str(path.absolute()) for path in takes))
        try:
            self._jobs.put_nowait(Job(hook, argv, take, env, config.hook_timeout))
        except queue.Full:
            self._announce(
                events.HookFailed(hook, take, f"not run: {QUEUE_SIZE} hooks were waiting already")
            )

    # ---- the runner's thread ----

    def run(self) -> None:
        while (job := self._jobs.get()) is not None:
            self._run(job)

    def close(self) -> None:
        """Wait up to `EXIT_WAIT_SECONDS` for the hooks; leave those still running."""
        if self.is_alive():
            self._exit_by = time.monotonic() + EXIT_WAIT_SECONDS
            os.eventfd_write(self._wake, 1)
            self._jobs.put(None)
            self.join(EXIT_WAIT_SECONDS + KILL_GRACE_SECONDS)
        if not self.is_alive():
            os.close(self._wake)

    def _run(self, job: Job) -> None:
        env = {**os.environ, **sidecar_env(job.take), **job.env}
        with tempfile.TemporaryFile() as output:
            try:
                pid = spawn(job.argv, env, output.fileno())
            except OSError as error:
                reason = f"cannot run {job.argv[0]}: {error.strerror or error}"
                self._announce(events.HookFailed(job.hook, job.take, reason))
                return
            status = self._wait(pid, time.monotonic() + job.timeout)
            if status is None and self._exit_by is not None and time.monotonic() >= self._exit_by:
                reason = "still running when jackrec exited: left running"
                self._announce(events.HookFailed(job.hook, job.take, reason))
                return
            if status is None:
                stop(pid)
                reason = f"timed out after {job.timeout:g} s: stopped"
            elif status == 0:
                return
            else:
                reason = describe_status(status) + last_line(output)
        self._announce(events.HookFailed(job.hook, job.take, reason))

    def _wait(self, pid: int, deadline: float) -> int | None:
        """The hook's exit code (negative: the signal that ended it), or None
        if it still runs at `deadline` or at the exit deadline."""
        pidfd = os.pidfd_open(pid)
        try:
            while True:
                until = deadline if self._exit_by is None else min(deadline, self._exit_by)
                left = max(0.0, until - time.monotonic())
                ready, _, _ = select.select([pidfd, self._wake], [], [], left)
                if pidfd in ready:
                    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
                if self._wake not in ready:
                    return None  # time is up
                os.eventfd_read(self._wake)  # closing: the exit deadline applies now
        finally:
            os.close(pidfd)


def spawn(argv: tuple[str, ...], env: dict[str, str], output: int) -> int:
    """Start `argv` (searched on PATH) as described in the module docstring; its pid.

    ``posix_spawn``, unlike ``subprocess`` with ``preexec_fn``, is safe in a
    threaded process, and sets the signal mask of the child itself.
    """
    actions: list[tuple[Any, ...]] = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_DUP2, output, 1),
        (os.POSIX_SPAWN_DUP2, output, 2),
    ]
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds() if fd > 2]
    return os.posix_spawnp(
        argv[0],
        argv,
        env,
        file_actions=actions,
        setpgroup=0,
        setsigmask=(),
        setsigdef=DEFAULT_SIGNALS,
    )


def inherited_fds() -> list[int]:
    """This process's descriptors that a child would inherit (libraries open some)."""
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.get_inheritable(int(name)):
                fds.append(int(name))
        except OSError:  # the listing's own descriptor, or one closed meanwhile
            continue
    return fds


def stop(pid: int) -> None:
    """SIGTERM to the hook's process group, SIGKILL if it is still there later; reap it."""
    pidfd = os.pidfd_open(pid)
    try:
        for signum, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signum)
            if wait is None or select.select([pidfd], [], [], wait)[0]:
                break
    finally:
        os.close(pidfd)
    os.waitpid(pid, 0)


def describe_status(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def last_line(output: IO[bytes]) -> str:
    """``: <the last line the hook wrote>``, or nothing."""
    output.seek(max(0, output.seek(0, os.SEEK_END) - 4096))
    lines = output.read().decode(errors="replace").strip().splitlines()
    return f": {lines[-1].strip()}" if lines else ""


def close_env(event: events.TakeFinished) -> dict[str, str]:
    """What a finished take's hooks are told from its event."""
    env = {"JACKREC_FRAMES": str(event.frames), "JACKREC_ENDED_BY": event.ended_by}
    if event.error:
        env["JACKREC_ERROR"] = event.error
    return env


def sidecar_env(take: Path) -> dict[str, str]:
    """The take's figures from its sidecar (none if it cannot be read)."""
    try:
        sidecar = read_sidecar(take)
    except (OSError, ValueError):
        return {}
    env = {name: str(sidecar[key]) for key, name in SIDECAR_FIGURES.items() if key in sidecar}
    if isinstance(sidecar.get("channels"), list):
        env["JACKREC_CHANNELS"] = str(len(sidecar["channels"]))
    utc = sidecar.get("start", {}).get("utc")
    if utc:
        env["JACKREC_START_UTC"] = str(utc)
    return env
