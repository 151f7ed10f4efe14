"""Settings shared by ``jackrec record``, ``jackrec tui`` and the TUI's settings.

One TOML file, ``$XDG_CONFIG_HOME/jackrec/config.toml`` (by default
``~/.config/jackrec/config.toml``), or the file given with ``--config``.
Every key is optional; a missing file means the defaults.  Command-line
options win over the file.  An unknown key, a wrong type or a value out of
range is an error naming the file and the key, so a typo never silently
records the wrong thing.

Example::

    directory = "~/sessions/takes"
    template = "{date}-{time}-take{n:03}"
    format = "w64"
    bits = "24"
    channels = 16
    ports = ["system:capture_*"]
    buffer = 10.0
    preroll = 5.0
    trigger = -30.0
    trigger_hold = 2.0
    trigger_release = -40.0
    align = true
    transport = true
    quality = 0.6
    dither = true
    on_close = ["/usr/local/bin/archive-take"]
    hook_timeout = 60.0
    rotate = "1h"
    rotate_at_clock = true
    rotate_size = "2G"
    split = "pairs"
    sync = "5s"

``template`` names takes: ``{n}`` (the take number, e.g. ``{n:03}``),
``{date}``, ``{time}``, ``{client}`` (the JACK client name) and strftime's
``%`` fields (``%Y-%m-%d``), at the time the take begins.
``trigger`` (dBFS, absent: off) is the level at which the console, once
armed with ``a``, ``jackrec serve`` armed, or ``jackrec record --trigger``
begins a take by itself.  ``trigger_hold`` (seconds, absent: never) ends a
take the trigger began once that long passed with no sample at
``trigger_release`` (dBFS, default 6 dB below ``trigger``), and arms the
trigger again.
``align`` (``--align``) lines up channels of different capture latencies
(`jackrec.align`).
``transport`` and ``freewheel`` (``record --transport``, ``--freewheel``)
make one take per roll of JACK's transport, or per freewheel run (with
both: while both), in the console once armed with ``a`` and in
``jackrec serve`` from the moment it connects; ``jackrec record`` follows
only when told on its command line.
``quality`` (0 to 1, absent: the codec's default) applies to the lossy
formats (ogg, opus, mp3), ``dither`` to 16-bit takes, whatever the format of
a take; ``bits`` does not apply to the lossy formats.  ``on_start``,
``on_close`` and ``on_rotate`` are commands (argument lists, run without a
shell) that `jackrec.hooks` runs for each take, each for at most
``hook_timeout`` seconds.
``rotate`` (a duration), ``rotate_size`` (a size) and ``rotate_at_clock``
cut long recordings into takes (`jackrec.rotation`), in every face.
``split`` (``--split``: ``mono``, ``pairs`` or groups like ``1-2,3-8,9-64``)
writes each take as one file per channel or group (`jackrec.split`).
``sync`` (``--sync``, a duration, absent: off) forces what a take holds onto
the disk that often (`jackrec.take`'s durability): a power cut then loses at
most that much of it, instead of what the kernel had not yet written back.
A ``[service]`` table holds ``jackrec serve``'s own settings
(`jackrec.service_config`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from jackrec.errors import UsageError
from jackrec.rotation import MIN_ROTATE_BYTES, MIN_ROTATE_SECONDS, Rotation
from jackrec.service_config import ServiceConfig
from jackrec.split import check_split
from jackrec.takefile import EXTENSIONS, FORMATS
from jackrec.units import parse_duration, parse_size

BITS = ("16", "24", "32", "float")
#: The settings that are hooks (`jackrec.hooks`), one for each moment of a take.
HOOKS = ("on_start", "on_close", "on_rotate")
MAX_HOOK_TIMEOUT = 86400.0
MAX_HOLD = 3600.0
#: How far below the trigger the release level lies unless set: hysteresis,
#: so a sound hovering at the trigger level does not end takes.
DEFAULT_HYSTERESIS_DB = 6.0
MAX_CHANNELS = 2048  # JACK's ports per client (jackrec.session.MAX_CHANNELS)
#: The durability interval's range (``sync``): below half a second the disk
#: would do little else; above an hour it promises nothing.
MIN_SYNC_SECONDS = 0.5
MAX_SYNC_SECONDS = 3600.0


@dataclass
class Config:
    """The settings, with their defaults."""

    directory: str = "~/jackrec"
    template: str = "{date}-{time}-take{n:03}"
    format: str = "wav"
    bits: str | None = None  # None: float, or 24-bit for FLAC
    channels: int | None = None
    ports: list[str] = field(default_factory=list)
    buffer: float = 10.0
    preroll: float = 5.0
    trigger: float | None = None  # dBFS; None: no level trigger
    trigger_hold: float | None = None  # seconds below release that end a take; None: never
    trigger_release: float | None = None  # dBFS; None: 6 dB below the trigger
    align: bool = False  # delay channels so that their capture latencies line up
    transport: bool = False  # a take per roll of JACK's transport
    freewheel: bool = False  # a take per freewheel run (with transport: while both)
    quality: float | None = None  # lossy codecs, 0 to 1; None: the codec's default
    dither: bool = False  # TPDF dither for 16-bit takes
    on_start: list[str] | None = None  # hooks: argument lists (jackrec.hooks)
    on_close: list[str] | None = None
    on_rotate: list[str] | None = None
    hook_timeout: float = 60.0
    rotate: float | None = None  # seconds per take; None: takes end when told
    rotate_at_clock: bool = False  # cut on wall-clock multiples of `rotate`
    rotate_size: int | None = None  # most sample bytes a take holds; None: no limit
    split: str | None = None  # mono, pairs or groups (jackrec.split); None: one file
    sync: float | None = None  # seconds between forcing takes to disk; None: the kernel's
    service: ServiceConfig = field(default_factory=ServiceConfig)  # the [service] table

    def check(self, where: str) -> None:
        """Raise `UsageError` naming `where` for any value out of range."""
        problems = []
        if self.format not in FORMATS:
            problems.append(f"format must be one of {', '.join(FORMATS)}")
        if self.bits is not None and self.bits not in BITS:
            problems.append(f"bits must be one of {', '.join(BITS)}")
        if self.channels is not None and not 1 <= self.channels <= MAX_CHANNELS:
            problems.append(f"channels must be 1 to {MAX_CHANNELS}")
        if not 0 < self.buffer <= 3600:
            problems.append("buffer must be above 0 and at most 3600 seconds")
        if not 0 <= self.preroll <= 600:
            problems.append("preroll must be 0 to 600 seconds")
        if self.trigger is not None and not -120 <= self.trigger <= 0:
            problems.append("trigger must be -120 to 0 dBFS")
        problems += self._hold_problems()
        if self.quality is not None and not 0 <= self.quality <= 1:
            problems.append("quality must be 0 to 1")
        for hook in HOOKS:
            if getattr(self, hook) == []:
                problems.append(f"{hook} must name a command (or be left out)")
        if self.split is not None:
            try:
                check_split(self.split)
            except ValueError as error:
                problems.append(f"split: {error}")
        if not 0 < self.hook_timeout <= MAX_HOOK_TIMEOUT:
            problems.append(f"hook_timeout must be above 0 and at most {MAX_HOOK_TIMEOUT:g} s")
        if self.rotate is not None and self.rotate < MIN_ROTATE_SECONDS:
            problems.append(f"rotate must be at least {MIN_ROTATE_SECONDS:g} second")
        if self.rotate_size is not None and self.rotate_size < MIN_ROTATE_BYTES:
            problems.append(f"rotate_size must be at least {MIN_ROTATE_BYTES // 1024} KiB")
        if self.sync is not None and not MIN_SYNC_SECONDS <= self.sync <= MAX_SYNC_SECONDS:
            problems.append(f"sync must be {MIN_SYNC_SECONDS:g} to {MAX_SYNC_SECONDS:g} seconds")
        if self.rotate_at_clock and self.rotate is None:
            problems.append("rotate_at_clock needs rotate (the period to cut on)")
        try:
            self.take_name(1, dt.datetime(2000, 1, 1))
        except (KeyError, ValueError, IndexError) as error:
            problems.append(f"template is not usable ({error})")
        if problems:
            raise UsageError(f"{where}: {problems[0]}")

    def _hold_problems(self) -> list[str]:
        problems = []
        if self.trigger_hold is not None and not 0 < self.trigger_hold <= MAX_HOLD:
            problems.append(f"trigger_hold must be above 0 and at most {MAX_HOLD:g} seconds")
        release = self.trigger_release
        if release is not None and not -130 <= release <= 0:
            problems.append("trigger_release must be -130 to 0 dBFS")
        if release is not None and self.trigger is not None and release > self.trigger:
            problems.append("trigger_release must not be above trigger")
        return problems

    @property
    def release_dbfs(self) -> float | None:
        """The release level in effect (None: no trigger)."""
        if self.trigger is None:
            return None
        if self.trigger_release is not None:
            return self.trigger_release
        return self.trigger - DEFAULT_HYSTERESIS_DB

    @property
    def recordings(self) -> Path:
        return Path(self.directory).expanduser()

    def take_name(self, number: int, when: dt.datetime, client: str = "jackrec") -> str:
        """The file name of take `number` (see the module docstring for the fields)."""
        return f"{expand_template(self.template, number, when, client)}.{EXTENSIONS[self.format]}"

    def rotation(self) -> Rotation | None:
        """How takes are cut (None: they end only when told)."""
        if self.rotate is None and self.rotate_size is None:
            return None
        return Rotation(self.rotate, self.rotate_at_clock, self.rotate_size)


def expand_template(template: str, number: int, when: dt.datetime, client: str) -> str:
    """A take's name from `template`: strftime's fields, then ``{n}``,
    ``{date}``, ``{time}`` and ``{client}``.

    Raises
    ------
    ValueError, KeyError, IndexError
        When the template names an unknown field, or the name it gives is
        not a plain file name.
    """
    name = when.strftime(template).format(
        n=number, date=when.strftime("%Y%m%d"), time=when.strftime("%H%M%S"), client=client
    )
    if "/" in name or "\0" in name or not name.strip() or name.startswith("."):
        raise ValueError("a take name must be a plain file name, not hidden")
    return name


def default_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jackrec" / "config.toml"


def load(path: Path | None = None) -> Config:
    """Read the settings from `path`, or from the default file.

    A missing default file gives the defaults; a file named explicitly
    (``--config``) must exist, so a typo in its name is never silently
    a recording with the defaults.

    Raises
    ------
    UsageError
        When the file is missing (if named), unreadable, not TOML, or holds
        a bad setting.
    """
    if path is not None and not path.exists():
        raise UsageError(f"config file {path} does not exist (an empty file gives the defaults)")
    path = path or default_path()
    return from_dict(read_table(path), str(path))


def read_table(path: Path) -> dict[str, Any]:
    """The file's table as it stands (empty when there is no file)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UsageError(f"cannot read config file {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"cannot read config file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"config file {path}: {error}") from None


def from_dict(data: dict[str, Any], where: str) -> Config:
    known = {f.name: f for f in dataclasses.fields(Config)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise UsageError(f"{where}: unknown setting {key!r}")
        if key == "service":
            if not isinstance(value, dict):
                raise UsageError(f"{where}: 'service' must be a table ([service])")
            values[key] = ServiceConfig.from_table(value, where)
        else:
            values[key] = _typed(key, value, where)
    config = Config(**values)
    config.check(where)
    return config


#: The type each setting must have in the file.
TYPES: dict[str, type | tuple[type, ...]] = {
    "directory": str, "template": str, "format": str, "bits": (str, int),
    "channels": int, "ports": list, "buffer": (int, float), "preroll": (int, float),
    "trigger": (int, float), "trigger_hold": (int, float), "trigger_release": (int, float),
    "align": bool, "transport": bool, "freewheel": bool, "quality": (int, float),
    "dither": bool,
    "on_start": list, "on_close": list, "on_rotate": list, "hook_timeout": (int, float),
    "rotate": (str, int, float), "rotate_at_clock": bool, "rotate_size": (str, int, float),
    "split": str, "sync": (str, int, float),
}  # fmt: skip
#: Settings written as a duration ('15m') or a size ('2G'), or a plain number.
MEASURED = {"rotate": (parse_duration, "a duration such as '1h' or '15m'"),
            "rotate_size": (parse_size, "a size such as '2G' or '650M'"),
            "sync": (parse_duration, "a duration such as '5s' or '1m'")}  # fmt: skip


def _typed(key: str, value: object, where: str) -> Any:
    if isinstance(value, bool) != (TYPES[key] is bool) or not isinstance(value, TYPES[key]):
        raise UsageError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    if isinstance(value, list) and not all(isinstance(p, str) for p in value):
        raise UsageError(f"{where}: '{key}' must be a list of strings")
    if key == "bits":
        return str(value)
    if key in MEASURED:
        parse, allowed = MEASURED[key]
        if isinstance(value, str):
            try:
                amount = float(parse(value))
            except ValueError:
                amount = math.nan
        else:
            assert isinstance(value, int | float)  # TYPES
            amount = float(value)
        if not 0 < amount < math.inf:
            raise UsageError(f"{where}: '{key}' must be {allowed}")
        return round(amount) if key == "rotate_size" else amount
    if isinstance(value, int | float) and not isinstance(value, bool) and key != "channels":
        return float(value)
    return value


def save(changes: dict[str, Any], path: Path | None = None) -> Path:
    """Write `changes` into the settings file (atomically); returns the path.

    Only the keys in `changes` are written (a value of None removes its
    key); every other key keeps what the file had, so settings given on a
    command line never find their way into the file.

    Raises
    ------
    UsageError
        When the file cannot be read, or the result would not load.
    """
    path = path or default_path()
    data = read_table(path)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    from_dict(data, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(temporary, path)
    return path
