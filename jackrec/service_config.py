"""The ``[service]`` table of the settings file: how ``jackrec serve`` runs.

Example::

    [service]
    server = "default"          # JACK server name (default: $JACK_DEFAULT_SERVER)
    name = "jackrec"            # JACK client name
    start = "now"               # now | command | armed
    socket = "/run/jackrec/studio.sock"   # control socket (default: see below)
    socket_group = "audio"      # also let this group control the service
    osc_port = 7777             # OSC on 127.0.0.1 (absent: off)
    min_free = "2G"             # no take begins, and a take ends, below this
    retain = { age = "30d", size = "500G" }   # or retain = "30d" / "500G"

The recording itself (directory, template, format, bits, channels, ports,
buffer, pre-roll, trigger, rotation) comes from the file's other keys, as
for the console and ``jackrec record``.  An unknown key or a bad value is
an error naming the file and ``service.<key>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

from jackrec.errors import UsageError
from jackrec.units import parse_duration, parse_size

StartMode = Literal["now", "command", "armed"]
START_MODES: tuple[str, ...] = get_args(StartMode)
DEFAULT_MIN_FREE = 2**30


@dataclass(frozen=True)
class ServiceConfig:
    """The service's settings, with their defaults.

    Attributes
    ----------
    server, name
        JACK server (None: the default server) and client name.
    start
        ``now``: record from start-up; ``command``: wait for a control
        command; ``armed``: arm the pre-roll and/or trigger, again after
        every take.
    socket, socket_group
        Control socket path (None: the default) and the group that may use
        it besides the service's user.
    osc_port
        OSC on 127.0.0.1 (None: off).
    min_free
        Bytes that must stay free on the recording disk.
    retain_age, retain_size
        Delete the oldest complete takes older than this many seconds, or
        while the takes hold more than this many bytes (None: keep).
    """

    server: str | None = None
    name: str = "jackrec"
    start: StartMode = "now"
    socket: str | None = None
    socket_group: str | None = None
    osc_port: int | None = None
    min_free: int = DEFAULT_MIN_FREE
    retain_age: float | None = None
    retain_size: int | None = None

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str) -> ServiceConfig:
        """Read the ``[service]`` table.

        Raises
        ------
        UsageError
            Naming `where` and ``service.<key>``.
        """
        values: dict[str, Any] = {}
        known = {f.name for f in dataclasses.fields(cls)} - {"retain_age", "retain_size"}
        for key, value in table.items():
            if key == "retain":
                values.update(_retain(value, where))
            elif key not in known:
                raise UsageError(f"{where}: unknown setting 'service.{key}'")
            else:
                values[key] = _value(key, value, where)
        return cls(**values)


def _problem(where: str, key: str, allowed: str) -> UsageError:
    return UsageError(f"{where}: service.{key} must be {allowed}")


def _value(key: str, value: object, where: str) -> Any:
    if key in ("server", "name", "socket", "socket_group"):
        if not isinstance(value, str) or not value:
            raise _problem(where, key, "a non-empty string")
        return value
    if key == "start":
        if value not in START_MODES:
            raise _problem(where, key, f"one of {', '.join(START_MODES)}")
        return value
    if key == "osc_port":
        if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 65535:
            raise _problem(where, key, "a port number from 1024 to 65535")
        return value
    assert key == "min_free"
    return round(_measured(parse_size, value, where, key, "a size such as '2G'"))


def _measured(parse: Any, value: object, where: str, key: str, allowed: str) -> float:
    """A duration or size, written as text or as a plain number."""
    if isinstance(value, bool):
        raise _problem(where, key, allowed)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(parse(value))
        except ValueError:
            pass
    raise _problem(where, key, allowed)


def _retain(value: object, where: str) -> dict[str, Any]:
    """``retain = "30d"``, ``"500G"`` or ``{ age = "30d", size = "500G" }``."""
    allowed = "an age ('30d'), a size ('500G'), or a table { age = ..., size = ... }"
    if isinstance(value, str):
        try:
            return {"retain_age": parse_duration(value)}
        except ValueError:
            try:
                return {"retain_size": parse_size(value)}
            except ValueError:
                raise _problem(where, "retain", allowed) from None
    if not isinstance(value, dict) or not value or set(value) - {"age", "size"}:
        raise _problem(where, "retain", allowed)
    values = {}
    if "age" in value:
        values["retain_age"] = _measured(
            parse_duration, value["age"], where, "retain.age", "a duration"
        )
    if "size" in value:
        values["retain_size"] = round(
            _measured(parse_size, value["size"], where, "retain.size", "a size")
        )
    return values
