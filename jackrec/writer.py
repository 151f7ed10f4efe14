"""The disk writer: a Python thread that drains the capture ring into takes.

The ring carries one unbroken stream of frames from the moment capturing
starts.  The writer walks along it and decides what each frame is for:
written to the current take, dropped while idle or paused, or kept while
idle as pre-roll.  Commands (record, stop, pause, resume, rotate, marker)
are stamped with a *stream frame* and take effect exactly there, so cuts
and new takes are frame-exact and nothing is written twice or left out.
An armed level trigger is such a command too: the writer looks at every
frame while idle, and the first one loud enough starts a take at itself
(less the pre-roll).  A take so begun, if the trigger has a hold, ends
by itself: the writer looks at every frame it writes, and once the hold
has passed with no sample at the release level, the take ends exactly
there and the trigger listens again.

Stream frames count every frame the process callback saw while capturing,
including those it lost to a full ring: where the callback lost frames the
writer writes exactly that much silence, so a take keeps the JACK timeline.

Following JACK's transport or freewheel (`commands.Follow`), the writer
reads the process callback's queue of state changes, each stamped with
the first stream frame of the cycle that saw it, and begins and ends
takes exactly there.

With alignment (``--align``) every frame walked, written or not, also
passes through an `Aligner`, which delays each channel of a take by its
own number of frames (see `jackrec.align`).

The writer wakes on its own timer or on a command; the process callback
never signals it, and nothing here can make the JACK thread wait.
"""

from __future__ import annotations

import bisect
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from jackrec import commands, events
from jackrec.align import Aligner
from jackrec.core.capture import ROLLING, Capture, Gap
from jackrec.errors import JackrecError
from jackrec.levels import dbfs
from jackrec.take import Take, TakeDeleted

#: How often the writer looks at the ring when no command wakes it, and
#: how much of the stream it hands a take at once (`jackrec.core.filewrite`
#: writes it, with the GIL released, in writes of its own size).  It sets
#: how much a killed recorder can leave unwritten.  One hand-over a poll,
#: whatever the channel count: the writer's own Python work per second of
#: audio does not grow with the stream's width.
POLL_SECONDS = 0.1

#: While idle, the writer keeps at least this much of the newest stream in
#: the ring, so a record command can start exactly where it was given.
GUARD_SECONDS = 0.5

#: Why a take ended when its trigger's hold ended it (its sidecar's ``ended_by``).
TRIGGER_HOLD = "trigger hold"

State = Literal["idle", "recording", "paused"]

#: What a take's frame time is: (JACK frame time, Unix time) of a stream frame.
Clock = Callable[[int], tuple[int | None, float | None]]
EventSink = Callable[[events.Event], None]


@dataclass(frozen=True)
class WriterStatus:
    """What the writer is doing, as of its latest step (published whole).

    Attributes
    ----------
    state
        ``idle``, ``recording`` or ``paused``.
    take, take_frames, take_bytes
        The take being written: its file, frames and sample bytes so far.
    preroll_frames
        The pre-roll armed (0: none).
    retained_frames
        Frames held back in the ring while idle (the pre-roll's fill).
    trigger_level
        The armed trigger's level (linear), if one is armed.
    following
        The JACK state followed (`jackrec.core.capture.ROLLING` and
        ``FREEWHEEL`` bits; 0: none).
    position
        Stream frames walked past.
    stepped_at
        `time.monotonic` of the step (a writer that stops stepping is
        stalled: the service's watchdog watches this).
    """

    state: State = "idle"
    take: Path | None = None
    take_frames: int = 0
    take_bytes: int = 0
    preroll_frames: int = 0
    retained_frames: int = 0
    trigger_level: float | None = None
    following: int = 0
    position: int = 0
    stepped_at: float = 0.0


class DiskWriter(threading.Thread):
    """Walks the capture stream and writes takes.

    Parameters
    ----------
    capture
        The realtime core whose ring to drain.
    sample_rate
        For the guard window and pre-roll.
    clock
        Maps a stream frame to its JACK frame time and wall-clock time.
    on_event
        Called in the writer thread with each `jackrec.events.Event`.
    align
        Delay each take's channels by the take's `TakeInfo.align_delays`.
    """

    def __init__(
        self,
        capture: Capture,
        sample_rate: int,
        clock: Clock,
        on_event: EventSink,
        *,
        align: bool = False,
    ) -> None:
        super().__init__(name="jackrec-writer", daemon=True)
        self._capture = capture
        self._clock = clock
        self._emit = on_event
        self._commands: queue.SimpleQueue[commands.Command] = queue.SimpleQueue()
        self._pending: list[commands.Command] = []  # in the order given
        self._stopping = threading.Event()
        self._step_frames = max(1, round(POLL_SECONDS * sample_rate))
        self._guard = min(round(GUARD_SECONDS * sample_rate), capture.frames.capacity // 4)
        self._gap_done = 0  # frames of the oldest queued gap already walked past
        self._paused_at = 0
        self._listening: commands.Trigger | None = None
        self._scanned = 0  # ring position up to which it has been listened to
        self._sidecar_reported: str | None = None
        self._aligner = Aligner(capture.channels) if align else None
        self._follow: commands.Follow | None = None
        self._followed: Take | None = None  # the take the follow began
        self._follow_left: int | None = None  # takes it may still begin (None: no limit)
        self._jack_state = 0  # the watched state, as of self.position
        # The writer's own state: only its thread changes it (by commands).
        self.state: State = "idle"
        self.take: Take | None = None
        self.position = 0  # stream frames walked past
        self.preroll_frames = 0
        self.trigger: commands.Trigger | None = None  # fires once
        self._armed: commands.Trigger | None = None  # listened for again after a take
        self._rearm = False  # ... after every take, not only those its hold ended
        self._take_frames: int | None = None  # how long each armed take is
        self._takes_left: int | None = None  # takes to begin before disarming
        self._ends_at: int | None = None  # where the take's `_take_frames` end
        self._hold: commands.Trigger | None = None  # the recording take's, if it has a hold
        self._last_loud = 0  # the take's latest stream frame at the release level
        #: What other threads read: replaced whole after every step.
        self.status = WriterStatus()

    # ---- any thread ----

    def submit(self, command: commands.Command) -> None:
        self._commands.put(command)

    # ---- the thread ----

    def run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(queue.Empty):
                self._receive(self._commands.get(timeout=POLL_SECONDS))
            self._step()

    def finish(self, ended_by: str) -> None:
        """Write what is left, then end the take (if one is open).

        Call once the process callback can no longer run (client
        deactivated, or server gone), so the stream is complete: what the
        ring holds, and the overflow run still open, if any.
        """
        self._stopping.set()
        self.join()
        self._step()
        gap = self._capture.open_gap()
        if gap is not None and self.state == "recording":
            self._guarded(lambda: self._walk_gap(gap, self._until_next_command(gap.frames)))
        if self.take is not None:
            self._end_take(ended_by)
        for command in self._pending:  # beyond the end of the stream
            if isinstance(command, commands.Record | commands.Rotate):
                command.take.discard()
        self._pending.clear()
        self._publish()

    def _step(self) -> None:
        self._receive_all()
        self._guarded(self._advance)
        self._publish()

    def _receive_all(self) -> None:
        while True:
            try:
                self._receive(self._commands.get_nowait())
            except queue.Empty:
                break

    def _receive(self, command: commands.Command) -> None:
        if isinstance(command, commands.AT_ONCE):
            self._apply(command)
        else:
            # in frame order, first come first served at one frame: a cut
            # planned ahead (rotation) may come after a later stop (--duration)
            bisect.insort(self._pending, command, key=lambda pending: pending.at)

    def _publish(self) -> None:
        take = self.take
        self.status = WriterStatus(
            state=self.state,
            take=take.path if take else None,
            take_frames=take.frames if take else 0,
            take_bytes=take.bytes if take else 0,
            preroll_frames=self.preroll_frames,
            retained_frames=self._capture.frames.read_space if self.state == "idle" else 0,
            trigger_level=self.trigger.level if self.trigger else None,
            following=self._follow.state if self._follow else 0,
            position=self.position,
            stepped_at=time.monotonic(),
        )

    def _guarded(self, work: Callable[[], None]) -> None:
        """Do `work`; if it fails (disk full, file deleted), end the take, go on."""
        try:
            work()
            if self.take is not None:
                self.take.update_progress()
        except Exception as error:
            self._emit(events.RecorderError(str(error)))
            if self.take is not None:
                ended_by = "file deleted" if isinstance(error, TakeDeleted) else "write error"
                self._end_take(ended_by, str(error))
            self.take, self.state = None, "idle"
        self._report_sidecar()

    def _report_sidecar(self) -> None:
        """Say once when the open take's sidecar stops being updated."""
        error = self.take.progress_error if self.take is not None else None
        if error is not None and error != self._sidecar_reported:
            self._emit(events.RecorderError(error))
        self._sidecar_reported = error

    # ---- walking the stream ----

    def _advance(self) -> None:
        ring, gaps = self._capture.frames, self._capture.gaps
        stepped = time.monotonic()
        while True:
            if time.monotonic() - stepped > POLL_SECONDS:
                # A writer slower than the stream never runs out of frames:
                # it takes the commands given since (a stop, a marker), and
                # keeps its status and the sidecar current, as it goes.
                self._receive_all()
                self._publish()
                if self.take is not None:
                    self.take.update_progress()
                stepped = time.monotonic()
            self._apply_due_commands()
            if self.state == "idle" and self.trigger is not None:
                self._listen(self.trigger)
            views = ring.peek(self._step_frames)
            # Looked at after peek(): the callback queues a gap before it
            # publishes the frames behind it, so no gap inside `views` can
            # be missed here.
            gap = gaps.peek()
            self._receive_state_changes()  # after peek(), like the gap
            if gap is not None and gap.ring_position == ring.read_position:
                frames = self._until_next_command(gap.frames - self._gap_done)
                if frames == 0 or (self.state == "idle" and ring.read_space <= self._keep()):
                    break
                self._walk_gap(gap, frames)
                self._gap_done += frames
                if self._gap_done == gap.frames:
                    gaps.pop()
                    self._gap_done = 0
                continue
            available = sum(len(view) for view in views)
            if gap is not None:
                available = min(available, gap.ring_position - ring.read_position)
            available = self._until_next_command(available)
            if self.state == "idle":
                available = min(available, max(0, ring.read_space - self._keep()))
            elif self.state == "recording" and self._hold is not None:
                available = self._hear(self._hold, views, available)
            if available <= 0:
                break
            self._walk_views(views, available)
            ring.release(available)
            self.position += available

    def _listen(self, trigger: commands.Trigger) -> None:
        """Look at the frames not yet looked at; fire at the first loud one.

        Every frame is looked at before it is released, and the ring keeps
        the pre-roll behind the newest frame, so the take can begin exactly
        `preroll_frames` before the frame that fired.
        """
        ring = self._capture.frames
        if trigger is not self._listening:  # newly armed: listen from now on
            self._listening, self._scanned = trigger, ring.write_position
        if self._capture.gaps.peek() is not None:
            return  # stream frames are known again once the writer walks the gap
        start = max(self._scanned, ring.read_position)
        skip = start - ring.read_position
        for view in ring.peek(ring.read_space):
            part = view[min(skip, len(view)) :, list(trigger.channels)]
            loud = np.flatnonzero((np.abs(part) >= trigger.level).any(axis=1))
            if loud.size:
                self._fire(trigger, self.position + (start - ring.read_position) + int(loud[0]))
                return
            start += len(part)
            skip = max(0, skip - len(view))
        self._scanned = start

    def _fire(self, trigger: commands.Trigger, at: int) -> None:
        self.trigger = None
        try:
            take = trigger.make_take()
        except JackrecError as error:
            self._emit(events.RecorderError(f"trigger: {error}"))
            return
        self._pending.insert(0, commands.Record(at, take, "trigger", trigger))
        self._emit(events.TriggerFired(at))

    def _hear(
        self, trigger: commands.Trigger, views: list[npt.NDArray[np.float32]], frames: int
    ) -> int:
        """Look at the next `frames` for the release level; how many the take still gets.

        Moves the take's last loud frame along up to the first silence of
        the hold's length, and stops there: that is where the take ends.
        """
        assert trigger.hold_frames is not None
        if frames <= 0:
            return frames
        loud, offset = [], self.position
        for view in views:
            part = view[: max(0, frames - (offset - self.position)), list(trigger.channels)]
            loud.append(offset + np.flatnonzero((np.abs(part) >= trigger.release).any(axis=1)))
            offset += len(part)
        heard = np.concatenate(loud)
        if heard.size == 0:
            return frames
        # No loud frame here lies beyond the hold's end (`_until_next_command`
        # stops there), so only a silence between two of them can end the take.
        silences = np.flatnonzero(np.diff(heard) > trigger.hold_frames)
        if silences.size == 0:
            self._last_loud = int(heard[-1])
            return frames
        self._last_loud = int(heard[silences[0]])
        return self._last_loud + 1 + trigger.hold_frames - self.position

    def _hold_end(self) -> int | None:
        """The stream frame where the take ends if nothing loud comes before it."""
        if self._hold is None or self._hold.hold_frames is None or self.state != "recording":
            return None
        return self._last_loud + 1 + self._hold.hold_frames

    def _planned_end(self) -> tuple[int, str] | None:
        """Where the take ends by itself (its length, its trigger's hold), and why."""
        ends = [(self._ends_at, "duration"), (self._hold_end(), TRIGGER_HOLD)]
        planned = [(at, why) for at, why in ends if at is not None]
        return min(planned) if planned and self.take is not None else None

    def _keep(self) -> int:
        """Frames to hold back while idle: the pre-roll, at least the guard."""
        return max(self.preroll_frames, self._guard)

    def _walk_views(self, views: list[npt.NDArray[np.float32]], frames: int) -> None:
        """Walk the next `frames` of the ring: into the take if recording, through the aligner."""
        take, aligner = self.take if self.state == "recording" else None, self._aligner
        for view in views:
            if frames <= 0:
                break
            block = view[:frames]
            frames -= len(block)
            if take is None:
                if aligner is not None:
                    aligner.skip(block)
            else:
                take.write(block if aligner is None else aligner.process(block))

    def _walk_gap(self, gap: Gap, frames: int) -> None:
        aligner = self._aligner
        if self.state == "recording":
            assert self.take is not None
            at = self.take.frames
            self.take.add_gap(frames, gap.jack_frame)  # at the frame the silence starts
            if aligner is None:
                self.take.write_silence(frames)
            else:
                self._write_aligned_silence(frames)
            self._emit(events.FramesLost(self.take.path, at, frames))
        elif aligner is not None:
            aligner.skip_silence(frames)
        self.position += frames

    def _write_aligned_silence(self, frames: int) -> None:
        """Silence in the stream, delayed like the rest (it holds earlier frames at first)."""
        assert self.take is not None and self._aligner is not None
        silence = np.zeros((min(frames, self._step_frames), self._capture.channels), np.float32)
        while frames > 0:
            block = silence[: min(frames, len(silence))]
            self.take.write(self._aligner.process(block))
            frames -= len(block)

    # ---- following JACK's transport and freewheel ----

    def _receive_state_changes(self) -> None:
        """Queue the callback's state changes as commands, in frame order.

        The callback queues a change before it publishes the cycle's
        frames, so a change is always read before the writer reaches it.
        A change goes before the commands at its frame: a roll that stops
        where a rotation was planned ends the take, and the rotation then
        has nothing to cut (rather than beginning an empty take).
        """
        while (change := self._capture.states.pop()) is not None:
            command = commands.StateChanged(
                change.stream_frame, change.state, change.transport_frame
            )
            before = bisect.bisect_left(self._pending, command.at, key=lambda c: c.at)
            self._pending.insert(before, command)

    def _state_changed(self, change: commands.StateChanged) -> None:
        """Begin or end the followed take where the followed state comes on or goes off."""
        was, self._jack_state = self._jack_state, change.state
        follow = self._follow
        if follow is None:
            return
        on_before = was & follow.state == follow.state
        on_now = change.state & follow.state == follow.state
        too_late = follow.until is not None and change.at >= follow.until
        spent = self._follow_left is not None and self._follow_left <= 0
        if on_now and not on_before and self.state == "idle" and not (too_late or spent):
            try:
                take = follow.make_take()
            except JackrecError as error:
                self._emit(events.RecorderError(f"follow: {error}"))
                return
            started_by = "transport" if follow.state & ROLLING else "freewheel"
            take.note_cause(started_by, self.position, 0, {})
            self._begin_take(take)
            if self._follow_left is not None:
                self._follow_left -= 1
            if follow.state & ROLLING:  # where the roll began, in the transport's frames
                take.start["transport_frame"] = change.transport_frame
            self._followed = take
        elif on_before and not on_now and self.take is not None and self.take is self._followed:
            gone = follow.state & ~change.state
            self._end_take("transport stopped" if gone & ROLLING else "freewheel ended")

    # ---- commands ----

    def _due(self, command: commands.Command) -> int:
        """Where a command takes effect: a record reaches back into the pre-roll."""
        if isinstance(command, commands.Record) and self.state == "idle":
            return max(self.position, command.at - self.preroll_frames)
        return max(self.position, command.at)

    def _until_next_command(self, frames: int) -> int:
        planned = self._planned_end()
        if planned is not None:
            frames = min(frames, planned[0] - self.position)
        if not self._pending:
            return frames
        return min(frames, self._due(self._pending[0]) - self.position)

    def _apply_due_commands(self) -> None:
        while self._pending and self._due(self._pending[0]) <= self.position:
            self._apply(self._pending.pop(0))
        planned = self._planned_end()
        if planned is not None and planned[0] <= self.position:
            self._end_take(planned[1])

    def _apply(self, command: commands.Command) -> None:
        take = self.take
        match command:
            case commands.Record(take=new) if self.state == "idle":
                self._begin_take(new, command)
            case commands.Rotate(take=new) if take is not None:
                # the recording goes on in the next file: it ends where it would have
                ends = self._hold, self._last_loud, self._ends_at
                self._end_take(events.ROTATED)
                new.note_cause("rotation", self.position, 0, {})
                self._begin_take(new)
                self._hold, self._last_loud, self._ends_at = ends
                if take is self._followed:  # the roll goes on in the next take
                    self._followed = new
            case commands.Stop(reason=reason) if take is not None:
                self._end_take(reason)
            case commands.Pause() if self.state == "recording":
                self.state, self._paused_at = "paused", self.position
            case commands.Resume() if self.state == "paused" and take is not None:
                take.add_pause(self._paused_at, self.position)
                self.state = "recording"
                self._last_loud = max(self._last_loud, self.position - 1)  # hold counts anew
            case commands.Marker(label=label) if take is not None:
                _, unix_time = self._clock(self.position)
                take.add_marker(label, unix_time if unix_time is not None else time.time())
                self._emit(events.MarkerAdded(take.path, label, take.frames))
            case commands.NoteXrun(delay_us=delay) if take is not None:
                take.add_xrun(delay)
            case commands.Arm(preroll_frames=preroll, trigger=trigger, rearm=rearm):
                self.preroll_frames, self.trigger = preroll, trigger
                self._armed, self._rearm = trigger, rearm
                if trigger is not None:  # from the frame it was armed at, still in the ring
                    ring = self._capture.frames
                    ahead = min(max(0, command.at - self.position), ring.read_space)
                    self._listening, self._scanned = trigger, ring.read_position + ahead
                self._take_frames, self._takes_left = command.take_frames, command.takes
            case commands.Disarm():
                self._disarm()
            case commands.Follow(takes=takes):
                self._follow, self._follow_left = command, takes
            case commands.Unfollow():
                self._follow = None
            case commands.StateChanged():
                self._state_changed(command)
            case commands.Record(take=new) | commands.Rotate(take=new):
                new.discard()  # a take that can no longer begin

    def _begin_take(self, take: Take, record: commands.Record | None = None) -> None:
        """Begin `take`: by `record`, or (None) as the next file of a rotation."""
        self.trigger = None  # a trigger begins the next take, whoever begins it
        trigger = record.trigger if record is not None else None
        if record is not None:
            self._begin_armed_take(record)
        # the writer's take from here on, so whatever fails next ends it
        self.take, self.state = take, "recording"
        if self._aligner is not None:
            delays = [0] * self._capture.channels  # channels outside the take: not delayed
            info = take.info
            for channel, delay in zip(info.channels, info.align_delays or (), strict=False):
                delays[channel] = delay
            self._aligner.set_delays(delays)
        jack_frame, unix_time = self._clock(self.position)
        if record is not None:
            cue = max(self.position, record.at)
            take.note_cause(record.started_by, cue, cue - self.position, _trigger_notes(trigger))
        take.begin(self.position, jack_frame, unix_time)
        self._emit(events.TakeStarted(take.path, self.position))

    def _end_take(self, ended_by: str, error: str | None = None) -> None:
        take, self.take = self.take, None
        assert take is not None
        if ended_by == TRIGGER_HOLD:  # the last loud frame, as a frame of the file
            take.trigger["last_loud_frame"] = self._last_loud - take.start["stream_frame"]
        self.state, self._hold, self._ends_at = "idle", None, None
        take.finish(ended_by, error)
        self._emit(events.TakeFinished(take.path, take.frames, ended_by, take.error))
        if self._armed is not None and (self._rearm or ended_by == TRIGGER_HOLD):
            self._listen_again(self._armed)

    def _begin_armed_take(self, record: commands.Record) -> None:
        """What arming says of a take `record` begins: its end, and the takes left."""
        self._ends_at = None if self._take_frames is None else self.position + self._take_frames
        trigger = record.trigger
        self._hold = trigger if trigger is not None and trigger.hold_frames is not None else None
        self._last_loud = record.at
        if self._takes_left is not None:
            self._takes_left -= 1
            if self._takes_left <= 0:  # the last take: it ends as armed, then no more
                self._armed = self.trigger = None
                self.preroll_frames = 0

    def _disarm(self) -> None:
        self.preroll_frames, self.trigger = 0, None
        self._armed, self._rearm, self._take_frames, self._takes_left = None, False, None, None

    def _listen_again(self, trigger: commands.Trigger) -> None:
        """Arm `trigger` again, listening from the frame after the take's last."""
        self.trigger = self._listening = trigger
        self._scanned = self._capture.frames.read_position


def _trigger_notes(trigger: commands.Trigger | None) -> dict[str, Any]:
    """A trigger's settings, for the sidecar of the take it began (empty: none)."""
    if trigger is None:
        return {}
    notes: dict[str, Any] = {"level_dbfs": round(dbfs(trigger.level), 2)}
    if trigger.hold_frames is not None:
        notes["hold_frames"] = trigger.hold_frames
        notes["release_dbfs"] = round(dbfs(trigger.release), 2)
    return notes
