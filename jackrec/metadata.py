"""Port names as JACK's metadata gives them: read from sources, set on jackrec's inputs.

qjackctl, Carla and Ardour show a port's pretty-name
(``http://jackaudio.org/metadata/pretty-name``) in place of its name and
sort ports by their order (``http://jackaudio.org/metadata/order``).
jackrec reads its sources' pretty-names for its track names (sidecar, iXML)
and names each of its inputs after its track, so a patchbay shows
``Kick In`` where it would show ``jackrec:in_1``; the inputs are ordered
by channel.  JACK drops a port's properties with the port.

Setting a property is a request to the server: never from a JACK callback
(the thread that runs them must not wait for the server), always from a
face's own poll (`Session.follow_graph`).
"""

from __future__ import annotations

import contextlib

import jack

#: The type JACK's metadata conventions give the order property's value.
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def track_names(
    client: jack.Client, inputs: list[jack.OwnPort], sources: list[tuple[str, ...]]
) -> tuple[str, ...]:
    """Each input's track name: its sources' (or else its own) pretty-names or port names,
    several sources joined by `` + ``."""
    pretty = PrettyNames(client)
    return tuple(
        " + ".join(pretty.or_name(source) for source in ports) if ports else port.name
        for port, ports in zip(inputs, sources, strict=True)
    )


def source_labels(client: jack.Client, sources: list[tuple[str, ...]]) -> list[str | None]:
    """Each input's first source's pretty-name (None: no source, or no pretty-name)."""
    pretty = PrettyNames(client)
    return [pretty.of(ports[0]) if ports else None for ports in sources]


class PrettyNames:
    """The pretty-names JACK's metadata holds now (one query, not one a port)."""

    def __init__(self, client: jack.Client) -> None:
        self._client = client
        self._properties = jack.get_all_properties()

    def of(self, port_name: str) -> str | None:
        try:
            port = self._client.get_port_by_name(port_name)
        except jack.JackError:  # gone since
            return None
        value = self._properties.get(port.uuid, {}).get(jack.METADATA_PRETTY_NAME)
        return str(value[0].decode(errors="replace")) if value else None

    def or_name(self, port_name: str) -> str:
        return self.of(port_name) or port_name


def order_inputs(client: jack.Client, inputs: list[jack.OwnPort]) -> None:
    """Give each input its channel number (from 1) as its order."""
    for channel, port in enumerate(inputs, 1):
        client.set_property(port, jack.METADATA_ORDER, str(channel), XSD_INTEGER)


def forget(client: jack.Client, inputs: list[jack.OwnPort]) -> None:
    """Remove what jackrec set on its inputs, before closing its client.

    JACK would remove them with the ports, but jackd 1.9.21 then hangs in
    ``jack_client_close`` for good once a client's ports hold more than
    some 40 properties (32 ports with their order closed in 0.03 s, 48
    never); removed first, 256 ports' closed in 0.05 s.
    """
    for port in inputs:
        with contextlib.suppress(RuntimeError):  # JACK-Client's word for a refusal
            client.remove_properties(port)


class InputLabels:
    """Keeps each input's pretty-name its track's name while a source feeds it."""

    def __init__(self) -> None:
        self._set: dict[int, str] = {}  # port uuid -> the pretty-name jackrec gave it

    def update(
        self, client: jack.Client, inputs: list[jack.OwnPort], sources: list[tuple[str, ...]]
    ) -> None:
        """Set the names that changed; an input that lost its sources loses its name."""
        names = track_names(client, inputs, sources)
        for port, name, fed in zip(inputs, names, sources, strict=True):
            if fed and self._set.get(port.uuid) != name:
                client.set_property(port, jack.METADATA_PRETTY_NAME, name)
                self._set[port.uuid] = name
            elif not fed and port.uuid in self._set:
                with contextlib.suppress(ValueError):  # removed by another client already
                    client.remove_property(port, jack.METADATA_PRETTY_NAME)
                del self._set[port.uuid]
