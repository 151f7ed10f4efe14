"""Driving a program in a tmux pane, for tests and benchmarks in a real terminal.

tmux runs on a socket of its own (``-L``), so a user's tmux is never
touched; `kill` ends that server and everything in it.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from pathlib import Path

_instances = itertools.count()


class Tmux:
    """One tmux server with one 100x30 session named ``console``."""

    def __init__(self, width: int = 100, height: int = 30) -> None:
        # a socket per instance: a server just killed may still be exiting,
        # and a new session on its socket would go down with it
        self.socket = f"jackrec-test-{os.getpid()}-{next(_instances)}"
        self.size = (str(width), str(height))

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return result.stdout

    def start(self, command: list[str], exit_file: Path, **env: str) -> None:
        """Run `command` in the pane; its exit status lands in `exit_file`."""
        variables = " ".join(f"{k}={v}" for k, v in env.items())
        self(
            "new-session", "-d", "-s", "console", "-x", self.size[0], "-y", self.size[1],
            f"{variables} {' '.join(command)}; echo exit=$? > {exit_file}; sleep 30",
        )  # fmt: skip

    def press(self, key: str) -> None:
        self("send-keys", "-t", "console", key)

    def screen(self) -> str:
        """What the pane shows, with lines the terminal wrapped joined."""
        return self("capture-pane", "-p", "-J", "-t", "console")

    def pane_pid(self) -> int:
        """The PID of the pane's shell (the program runs as its child)."""
        return int(self("display-message", "-p", "-t", "console", "#{pane_pid}"))

    def close(self) -> None:
        """Close the pane's terminal, as closing a window or losing ssh does (SIGHUP)."""
        self("kill-session", "-t", "console")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (screen := self.screen()):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")

    def kill(self) -> None:
        self("kill-server")


def wait_for_exit(exit_file: Path, timeout: float = 30.0) -> str:
    """What `Tmux.start` wrote to `exit_file` (``exit=N``), or ``""`` at the timeout."""
    deadline = time.monotonic() + timeout
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return exit_file.read_text().strip() if exit_file.exists() else ""
