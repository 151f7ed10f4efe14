"""The stop signals: Ctrl-C, terminate and hang-up, taken when jackrec is ready.

A signal that arrives while a thread waits on the JACK server makes libjack
fail that request ("JACK refused: Error connecting") or hang, and a Python
handler runs only in the main thread, whichever thread the signal hit.  So
`jackrec` blocks the stop signals first thing (`hold`), before any other
thread exists (NumPy's BLAS starts threads as it is imported): every thread
inherits the block, and none is ever interrupted.  Commands that record take
them synchronously (`taken`); the others hand them back to the main thread
(`release`), where Ctrl-C is a KeyboardInterrupt as usual.

The cue signals, SIGUSR1 and SIGUSR2, which start and end the takes of an
armed ``jackrec record``, are held the same way and for the same reason;
only that command takes them (``taken(cues=True)``), the other recording
commands leave them pending, so a stray one neither kills nor stops them.

Only the standard library here: the entry point imports this before
anything heavy.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
#: Start a take (SIGUSR1) and end it (SIGUSR2), in an armed ``jackrec record``.
CUE_SIGNALS = {signal.SIGUSR1, signal.SIGUSR2}
HELD_SIGNALS = STOP_SIGNALS | CUE_SIGNALS


def hold() -> None:
    """Block the stop and cue signals in this thread and every thread it starts."""
    signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)


def release() -> None:
    """Unblock them in this thread: delivered here, as usual, from now on."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)


def wait_for(signals: set[signal.Signals], timeout: float) -> signal.Signals | None:
    """Take one of `signals`, waiting up to `timeout` seconds (None: none came).

    CPython's sigtimedwait (3.11) returns an unfilled siginfo when a signal
    that is not waited for interrupts it (SIGCONT after Ctrl-Z) past its
    deadline: a number that is no signal at all is no signal taken.
    """
    info = signal.sigtimedwait(signals, timeout)
    if info is None or info.si_signo not in {int(number) for number in signals}:
        return None
    return signal.Signals(info.si_signo)


def stop_pending() -> bool:
    """Whether a stop signal is pending (taken if so); cue signals are left pending."""
    return wait_for(STOP_SIGNALS, 0) is not None


@contextlib.contextmanager
def taken(*, cues: bool = False) -> Iterator[Callable[[float], signal.Signals | None]]:
    """Hold the stop signals (and, with `cues`, the cue signals); yield ``next_signal(timeout)``.

    ``next_signal`` waits up to `timeout` seconds (0: just looks) for such
    a signal and returns it, or None.  Signals still pending at the end (a
    second Ctrl-C while a take is finalized) are taken, not delivered, and
    the previous mask comes back.
    """
    wanted = HELD_SIGNALS if cues else STOP_SIGNALS
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, wanted)

    try:
        yield lambda timeout: wait_for(wanted, timeout)
    finally:
        while wait_for(wanted, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
