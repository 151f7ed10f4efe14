"""Naming and creating a session's takes from the settings.

The console and the service name their takes the same way: in the settings'
directory, from its template (``{date}``, ``{time}``, ``{n}``), in its
format and bit depth.  A take number is used up only when its file is
created, and a name that exists already is skipped, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from jackrec.config import Config
from jackrec.errors import JackrecError, UsageError
from jackrec.session import Session
from jackrec.split import channel_limit, groups_of, widest
from jackrec.take import Take
from jackrec.takefile import EXTENSIONS, FileFormat, resolve_format


class TakeNamer:
    """Creates the takes of one session.

    Attributes
    ----------
    config
        The settings the next take follows (replace it to change them).
    number
        The number of the last take created (0: none yet).
    """

    def __init__(self, session: Session, config: Config) -> None:
        self.session = session
        self.config = config
        self.number = 0
        # a trigger creates its take in the writer thread, a face in its own
        self._lock = threading.Lock()

    def file_format(self, config: Config | None = None) -> FileFormat:
        """The format of a take begun now under `config` (default: the current one).

        Raises
        ------
        UsageError
            When the settings cannot record it (FLAC with 32-bit samples,
            a split group wider than the format holds, Opus at 44.1 kHz).
        """
        config = config or self.config
        armed = max(1, sum(self.session.armed))
        try:
            groups = groups_of(config.split, armed, channel_limit(config.format))
        except ValueError as error:
            raise UsageError(str(error)) from None
        # The format is named, so the file name does not matter.
        return resolve_format(
            Path("take"), config.format, config.bits, widest(groups, armed),
            self.session.sample_rate, None, quality=config.quality, dither=config.dither,
        )  # fmt: skip

    def create(self, name: str | None = None, notes: dict[str, Any] | None = None) -> Take:
        """Create the next take's file: `name` (a plain file name), or the template's.

        `notes` go into its sidecar (see `Session.new_take`).

        Raises
        ------
        JackrecError
            When the directory or the file cannot be created, the name is
            taken, or the settings cannot record.
        """
        with self._lock:
            return self._create(name, notes)

    def _create(self, name: str | None, notes: dict[str, Any] | None) -> Take:
        config = self.config
        directory = config.recordings
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise JackrecError(f"cannot create {directory}: {error.strerror}") from None
        number = self.number + 1
        if name is not None:
            if Path(name).name != name or name.startswith("."):
                raise JackrecError(f"'{name}' is not a plain file name")
            path = directory / (name if "." in name else f"{name}.{EXTENSIONS[config.format]}")
        else:
            while (path := directory / config.take_name(number, dt.datetime.now())).exists():
                number += 1
        take = self.session.new_take(path, self.file_format(), notes, config.split)
        self.number = number
        return take
