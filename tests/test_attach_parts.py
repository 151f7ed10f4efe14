"""The parts a console attached to a service stands on, without JACK.

Levels shared by several readers (`SharedMeters`) and read per connection
of the control socket, the ``meters`` and ``channels`` replies,
``arm_channels``'s argument, and events read back from their JSON.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from jackrec import events
from jackrec.cli import main
from jackrec.control import (
    Request,
    RequestError,
    meter_reading,
    meters_reply,
    parse_request,
)
from jackrec.control_client import ControlClient
from jackrec.control_socket import ControlServer
from jackrec.core.capture import MeterReading
from jackrec.levels import SharedMeters
from jackrec.recorder import Channel
from tests.control_fakes import FakeController, short_directory


def reading(peaks: list[float], mean_squares: list[float], frames: int, clips: int) -> MeterReading:
    n = len(peaks)
    return MeterReading(
        np.array(peaks, np.float32),
        np.array(mean_squares, np.float64),
        np.full(n, frames, np.uint32),
        np.full(n, clips, np.uint64),
    )


class Source:
    """Stands in for a capture's `Meters`: each poll hands out the next reading, once,
    then silence."""

    def __init__(self, *readings: MeterReading) -> None:
        self.readings = list(readings)
        self.polls = 0
        self.lock = threading.Lock()
        channels = len(readings[0].peaks)
        self.silence = reading([0.0] * channels, [0.0] * channels, 0, 0)

    def poll(self) -> MeterReading:
        self.polls += 1
        with self.lock:
            return self.readings.pop(0) if self.readings else self.silence


def shared(source: Source, channels: int) -> SharedMeters:
    meters = SharedMeters()
    meters.attach(source, channels)  # type: ignore[arg-type]  # a stand-in for Meters
    return meters


def test_no_reader_steals_another_readers_peaks() -> None:
    loud, quiet = (
        reading([0.9, 0.1], [0.25, 0.01], 100, 1),
        reading([0.2, 0.2], [0.01, 0.01], 300, 2),
    )
    meters = shared(Source(loud, quiet), 2)
    first, second = meters.reader(), meters.reader()
    a = first.take()  # takes `loud` from the capture: the second reader keeps it too
    b = second.take()  # takes `quiet`
    assert a.peaks.tolist() == pytest.approx([0.9, 0.1])
    assert b.peaks.tolist() == pytest.approx([0.9, 0.2])
    assert b.frames.tolist() == [400, 400]
    # the mean square over both readings, weighted by their frames
    assert b.mean_squares.tolist() == pytest.approx([(0.25 * 100 + 0.01 * 300) / 400, 0.01])
    assert b.clips.tolist() == [2, 2]  # a running count: the latest
    after = first.take()  # only what came since its last look: `quiet`
    assert after.peaks.tolist() == pytest.approx([0.2, 0.2]) and after.frames.tolist() == [300] * 2


def test_a_closed_reader_is_no_longer_accounted_for() -> None:
    meters = shared(Source(reading([0.5], [0.1], 10, 0)), 1)
    reader, gone = meters.reader(), meters.reader()
    gone.close()
    assert reader.take().peaks.tolist() == [0.5]
    assert meters._accounts == [reader]


def test_detached_meters_read_nothing_and_keep_what_was_taken() -> None:
    source = Source(reading([0.5], [0.1], 10, 0))
    meters = shared(source, 1)
    reader, other = meters.reader(), meters.reader()
    reader.take()
    meters.attach(None)  # the capture is about to close
    assert other.take().peaks.tolist() == [0.5]  # taken before, kept for it
    empty = other.take()
    assert empty.peaks.tolist() == [0.0] and empty.frames.tolist() == [0]
    assert source.polls == 1


def test_a_capture_of_other_channels_starts_every_account_again() -> None:
    meters = shared(Source(reading([0.5], [0.1], 10, 3)), 1)
    reader = meters.reader()
    meters.attach(Source(reading([0.1, 0.2, 0.3], [0.0] * 3, 5, 0)), 3)  # type: ignore[arg-type]
    assert reader.take().peaks.tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_readers_in_threads_see_every_peak() -> None:
    """Eight readers polling at once: each sees the one loud reading among 400."""
    quiet = [reading([0.1], [0.0], 1, 0) for _ in range(400)]
    quiet[200] = reading([1.0], [0.0], 1, 0)
    source = Source(*quiet)
    meters = shared(source, 1)
    readers = [meters.reader() for _ in range(8)]
    seen: dict[int, list[float]] = {i: [] for i in range(8)}

    def read(i: int) -> None:
        while source.readings:
            seen[i].append(float(readers[i].take().peaks[0]))

    threads = [threading.Thread(target=read, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for i, reader in enumerate(readers):
        seen[i].append(float(reader.take().peaks[0]))  # what came after its last look
    assert all(max(peaks) == 1.0 for peaks in seen.values())


def test_meters_reply_round_trips_through_json() -> None:
    levels = reading([0.5, 1e-7], [0.125, 1e-14], 1600, 7)
    answer = json.loads(json.dumps(meters_reply(levels)))
    back = meter_reading(answer, 2)
    assert back.peaks.tolist() == levels.peaks.tolist()
    assert back.mean_squares.tolist() == levels.mean_squares.tolist()
    assert back.frames.tolist() == [1600, 1600] and back.clips.tolist() == [7, 7]
    with pytest.raises(RequestError, match="not of 3 channels"):
        meter_reading(answer, 3)
    with pytest.raises(RequestError, match="without its levels"):
        meter_reading({"ok": True, "peaks": "loud"}, 2)


def test_arm_channels_takes_a_channel_list() -> None:
    request = parse_request(b'{"command": "arm_channels", "channels": "1-8, 17"}\n')
    assert request == Request("arm_channels", "1-8, 17")
    for bad in ('"1-5000"', '"x"', "[true, false]", '""'):  # past 2048 channels
        with pytest.raises(RequestError):
            parse_request(b'{"command": "arm_channels", "channels": %s}\n' % bad.encode())


def test_channels_round_trip_and_refuse_what_is_not_one() -> None:
    channel = Channel("jackrec:in_3", ("mixer:out_L", "synth:out"), armed=False)
    assert Channel.from_json(json.loads(json.dumps(channel.to_json()))) == channel
    assert channel.label == "out_L"
    assert Channel("jackrec:in_3", (), armed=True).label == "in_3"
    named = Channel("jackrec:in_3", ("mixer:out_L",), armed=True, pretty="Kick In")
    assert Channel.from_json(json.loads(json.dumps(named.to_json()))) == named
    assert named.label == "Kick In"  # the source's JACK pretty-name
    older = {"port": "jackrec:in_3", "sources": [], "armed": True}  # a service before it
    assert Channel.from_json(older).pretty is None
    bad: object
    for bad in ({"port": "x"}, [], {"port": 1, "sources": [], "armed": True}):
        with pytest.raises(ValueError):
            Channel.from_json(bad)


def test_events_read_back_from_json() -> None:
    take = Path("/takes/take001.wav")
    for event in (
        events.TakeFinished(take, 96000, "stop request", None),
        events.MarkerAdded(take, "verse", 1000),
        events.TakesDeleted(("a.wav", "b.wav")),
        events.Xrun(312.5),
    ):
        assert events.from_json(json.loads(json.dumps(event.to_json()))) == event
    unknown = events.from_json({"event": "from_the_future", "text": "hello", "time": 5.0})
    assert unknown == events.Notice("hello", time=5.0)
    # the base of every event is no event (it has no text of its own)
    base = events.from_json({"event": "event", "text": "hi", "time": 5.0})
    assert base == events.Notice("hi", time=5.0) and base.text
    broken = events.from_json({"event": "xrun", "text": "xrun (3 us late)"})
    assert broken.text == "xrun (3 us late)"


def test_each_connection_reads_the_levels_since_its_own_last_look() -> None:
    controller = FakeController()
    with short_directory() as directory:
        server = ControlServer(directory / "control.sock", controller)
        server.start()
        try:
            with ControlClient(server.path) as one, ControlClient(server.path) as two:
                first = [one.request(Request("meters")) for _ in range(3)]
                second = two.request(Request("meters"))
                assert [meter_reading(a, 2).peaks[0] for a in first] == pytest.approx(
                    [0.1, 0.2, 0.3]
                )
                assert meter_reading(second, 2).peaks[0] == pytest.approx(
                    0.1
                )  # a reader of its own
                assert len(controller.meter_readers) == 2 and controller.requests == []
            for reader in controller.meter_readers:  # closed when its client hangs up
                assert reader.closed.wait(5)
        finally:
            server.close()


def test_attach_takes_no_recording_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tui", "--attach", "/nowhere.sock", "-c", "4", "--dir", "x"]) == 2
    assert capsys.readouterr().err == (
        "jackrec: error: --attach takes none of --channels, --dir: "
        "the service's settings say how it records\n"
    )
    assert main(["-v", "tui", "--attach", "/nowhere.sock"]) == 1
    assert capsys.readouterr().err.endswith(
        "jackrec: error: no jackrec service on /nowhere.sock (is it running?)\n"
    )
