"""The service's parts without JACK: its settings, where it cuts, what it deletes, its log."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from jackrec import config, retention
from jackrec.cli import OneLineHandler
from jackrec.errors import UsageError
from jackrec.service import Service
from jackrec.service_config import ServiceConfig
from jackrec.sidecar import sidecar_path


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return config.load(path)


def test_the_service_table(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[service]\nstart = "armed"\n'
        'min_free = "2G"\nretain = { age = "30d", size = "500G" }\nosc_port = 7777\n',
    ).service
    assert settings == ServiceConfig(
        start="armed", min_free=2 * 2**30,
        retain_age=30 * 86400, retain_size=500 * 2**30, osc_port=7777,
    )  # fmt: skip
    assert load(tmp_path, '[service]\nretain = "7d"').service.retain_age == 7 * 86400
    assert load(tmp_path, '[service]\nretain = "1T"').service.retain_size == 2**40
    assert load(tmp_path, "").service == ServiceConfig()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('start = "later"', "service.start must be one of now, command, armed"),
        ('rotate = "1h"', "unknown setting 'service.rotate'"),  # a recording setting
        ("osc_port = 80", "service.osc_port must be a port number"),
        ('min_free = "lots"', "service.min_free must be a size"),
        ('retain = { forever = "yes" }', "service.retain must be"),
        ("frobnicate = 1", "unknown setting 'service.frobnicate'"),
    ],
)
def test_bad_service_settings_name_the_file_and_the_key(
    tmp_path: Path, table: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        load(tmp_path, f"[service]\n{table}\n")
    assert str(tmp_path / "config.toml") in str(raised.value)


def take(directory: Path, name: str, age: float, size: int, complete: bool = True) -> Path:
    path = directory / name
    path.write_bytes(b"\0" * size)
    sidecar_path(path).write_text(f'{{"jackrec": "0.1.0", "complete": {str(complete).lower()}}}')
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_retention_keeps_what_is_not_a_finished_jackrec_take(tmp_path: Path) -> None:
    old = take(tmp_path, "old.wav", age=10 * 86400, size=100)
    take(tmp_path, "unfinished.wav", age=10 * 86400, size=100, complete=False)
    (tmp_path / "notes.wav").write_bytes(b"not a take")
    take(tmp_path, "new.wav", age=60, size=100)
    finished = retention.finished_takes(tmp_path)
    assert [t.path.name for t in finished] == ["old.wav", "new.wav"]
    doomed = retention.expired(finished, time.time(), max_age=86400, max_size=None)
    assert [t.path for t in doomed] == [old]
    retention.delete(doomed[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "new.wav", "new.wav.json", "notes.wav", "unfinished.wav", "unfinished.wav.json",
    ]  # fmt: skip


def test_retention_deletes_a_split_take_with_all_its_files(tmp_path: Path) -> None:
    then = time.time() - 10 * 86400
    files = ["old_01-02_mix.wav", "old_03_vox.wav"]
    for name in files:
        (tmp_path / name).write_bytes(b"\0" * 100)
        os.utime(tmp_path / name, (then, then))
    listing = ", ".join(f'{{"file": "{name}"}}' for name in files)
    sidecar = '{"jackrec": "0.1.0", "complete": true, "files": [' + listing + "]}"
    sidecar_path(tmp_path / "old.wav").write_text(sidecar)
    (finished,) = retention.finished_takes(tmp_path)
    assert finished.size == 200 + len(sidecar) and finished.modified == pytest.approx(then)
    retention.delete(finished)
    assert list(tmp_path.iterdir()) == []


def test_retention_by_size_deletes_the_oldest_first(tmp_path: Path) -> None:
    for n, age in enumerate([300, 200, 100]):
        take(tmp_path, f"t{n}.wav", age=age, size=1000)
    finished = retention.finished_takes(tmp_path)
    each = finished[0].size
    doomed = retention.expired(finished, time.time(), max_age=None, max_size=2 * each)
    assert [t.path.name for t in doomed] == ["t0.wav"]


def test_log_lines_carry_the_journal_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    handler = OneLineHandler()
    record = logging.LogRecord("jackrec", logging.WARNING, "", 0, "disk low", None, None)
    assert handler.format(record) == "<4>disk low"
    monkeypatch.delenv("JOURNAL_STREAM")
    assert OneLineHandler().format(record).endswith("jackrec: warning: disk low")


def test_the_service_reads_the_align_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("align = true\n")
    assert Service(config.load(path), path)._session_options().align
    assert not Service(config.Config(), None)._session_options().align
