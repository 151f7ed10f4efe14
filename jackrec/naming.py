"""Naming and creating a session's takes from the settings.

The console and the service name their takes the same way: in the settings'
directory, from its template (``{n}``, ``{date}``, ``{time}``, ``{client}``,
strftime's fields, at the time the take begins), in its format and bit
depth; ``jackrec record`` names the takes of a run from its own template
(`free_name`).  A take number is used up only when its file is created, and
a name that exists already is skipped, never overwritten: the next number,
or for a template without ``{n}`` a ``-2``, ``-3``... before the extension.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jackrec.config import Config, expand_template
from jackrec.errors import JackrecError, UsageError
from jackrec.session import Session
from jackrec.sidecar import sidecar_path
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

    def create(
        self,
        name: str | None = None,
        notes: dict[str, Any] | None = None,
        when: float | None = None,
    ) -> Take:
        """Create the next take's file: `name` (a plain file name), or the template's.

        `notes` go into its sidecar (see `Session.new_take`); `when` is the
        Unix time the take will begin, for the template (default: now).

        Raises
        ------
        JackrecError
            When the directory or the file cannot be created, the name is
            taken, or the settings cannot record.
        """
        with self._lock:
            return self._create(name, notes, when)

    def _create(self, name: str | None, notes: dict[str, Any] | None, when: float | None) -> Take:
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
            moment = dt.datetime.now() if when is None else dt.datetime.fromtimestamp(when)
            client = self.session.client.name
            try:
                path, number = free_name(
                    directory, lambda n: config.take_name(n, moment, client), number
                )
            except ValueError as error:  # a client name with a slash, say
                raise JackrecError(f"the template gives no usable name: {error}") from None
        take = self.session.new_take(path, self.file_format(), notes, config.split)
        self.number = number
        return take


def free_name(directory: Path, name_of: Callable[[int], str], number: int) -> tuple[Path, int]:
    """The first name `name_of` gives from take `number` on that is free in
    `directory`, and its number.

    A name that does not change with the number (a template without
    ``{n}``) gets ``-2``, ``-3``... before its extension instead.

    Raises
    ------
    ValueError
        From `name_of`.
    """
    name = name_of(number)
    if name_of(number + 1) == name:
        stem, dot, extension = name.rpartition(".") if "." in name else (name, "", "")
        names = (f"{stem}-{k}{dot}{extension}" for k in itertools.count(2))
        path = directory / name
        while _taken(path):
            path = directory / next(names)
        return path, number
    while _taken(directory / name):
        number += 1
        name = name_of(number)
    return directory / name, number


def _taken(path: Path) -> bool:
    """A take's name is taken by its file or its sidecar (by anything, a dangling link too)."""
    return os.path.lexists(path) or os.path.lexists(sidecar_path(path))


@dataclass
class RunNames:
    """The paths of the takes of one ``jackrec record`` run.

    A run of one take writes FILE itself.  A run that may make several
    (rotation, the time machine) names them from a pattern:
    ``--name-template``, or FILE when its name has fields (``{n}``,
    ``%H``...), or else FILE with the take number before its extension
    (``take-001.wav``, ``take-002.wav``...).
    """

    pattern: Path
    templated: bool
    number: int = 0  # the last take named

    @classmethod
    def of(cls, file: Path | None, template: str | None, several: bool) -> RunNames:
        """The names for FILE or ``--name-template`` (exactly one of them).

        Raises
        ------
        UsageError
            When both or neither are given.
        """
        if (file is None) == (template is None):
            raise UsageError("give the take's FILE or --name-template (one of them)")
        if template is not None:
            return cls(Path(template), templated=True)
        assert file is not None
        if not several:
            return cls(file, templated=False)
        if any(mark in file.name for mark in "{%"):
            return cls(file, templated=True)
        return cls(file.with_name(f"{file.stem}-{{n:03}}{file.suffix}"), templated=True)

    def check(self, client: str) -> Path:
        """The first take's path, if the pattern gives one (nothing is created).

        Raises
        ------
        UsageError
            When the pattern names an unknown field or gives no plain name.
        """
        if not self.templated:
            return self.pattern
        try:
            name = expand_template(self.pattern.name, self.number + 1, dt.datetime.now(), client)
        except (KeyError, ValueError, IndexError) as error:
            raise UsageError(
                f"the take name pattern '{self.pattern}' is not usable ({error})"
            ) from None
        return self.pattern.with_name(name)

    def next(self, client: str, when: float | None = None) -> Path:
        """The path of the next take, beginning at Unix time `when` (default: now),
        never one that exists."""
        if not self.templated:
            return self.pattern
        moment = dt.datetime.now() if when is None else dt.datetime.fromtimestamp(when)
        name = self.pattern.name
        path, self.number = free_name(
            self.pattern.parent,
            lambda n: expand_template(name, n, moment, client),
            self.number + 1,
        )
        return path


class RunTakes:
    """Creates the takes of one ``jackrec record`` run, and keeps them.

    Called in any thread: a trigger creates its take in the disk writer's
    thread, a signal or a rotation in the main thread.

    Parameters
    ----------
    names
        Their names.
    create
        Creates a take at a path (`Session.new_take`, in the run's format).
    client
        The JACK client name, for the names' ``{client}``.
    """

    def __init__(self, names: RunNames, create: Callable[[Path], Take], client: str) -> None:
        self._names = names
        self._create = create
        self._client = client
        self._lock = threading.Lock()
        self._made: list[Take] = []

    def create(self, when: float | None = None) -> Take:
        """The next take, beginning at Unix time `when` (default: now)."""
        with self._lock:
            take = self._create(self._names.next(self._client, when))
            self._made.append(take)
            return take

    def made(self) -> list[Take]:
        """Every take created so far, in order (some may never begin)."""
        with self._lock:
            return list(self._made)

    def begun(self) -> list[Take]:
        """The takes that began (not those made and then discarded), in order."""
        return [take for take in self.made() if take.start]
