"""The connections file (`jackrec.connections`) reads back what it was written
with, whatever the port names hold (JACK allows nearly any character)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from jackrec.connections import read, render

#: What a port name can hold: any character but NUL and lone surrogates (names are UTF-8).
name = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=20,
)
port = st.builds(lambda client, short: f"{client}:{short}", name, name)


@given(st.lists(st.tuples(port, port), max_size=8))
def test_what_is_saved_reads_back(pairs: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rig.toml"
        path.write_text(render(pairs, "JACK server 'x'"), encoding="utf-8")
        assert read(path) == pairs
