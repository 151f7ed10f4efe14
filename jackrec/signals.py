"""The stop signals: Ctrl-C, terminate and hang-up, taken when jackrec is ready.

A signal that arrives while a thread waits on the JACK server makes libjack
fail that request ("JACK refused: Error connecting") or hang, and a Python
handler runs only in the main thread, whichever thread the signal hit.  So
`jackrec` blocks the stop signals first thing (`hold`), before any other
thread exists (NumPy's BLAS starts threads as it is imported): every thread
inherits the block, and none is ever interrupted.  Commands that record take
them synchronously (`taken`); the others hand them back to the main thread
(`release`), where Ctrl-C is a KeyboardInterrupt as usual.

Only the standard library here: the entry point imports this before
anything heavy.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def hold() -> None:
    """Block the stop signals in this thread and every thread it starts."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def release() -> None:
    """Unblock them in this thread: delivered here, as usual, from now on."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextlib.contextmanager
def taken() -> Iterator[Callable[[float], bool]]:
    """Hold the stop signals; yield ``stop_requested(timeout)``.

    ``stop_requested`` waits up to `timeout` seconds (0: just looks) for a
    stop signal and says whether one came.  Signals still pending at the
    end (a second Ctrl-C while a take is finalized) are taken, not
    delivered, and the previous mask comes back.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield lambda timeout: signal.sigtimedwait(STOP_SIGNALS, timeout) is not None
    finally:
        while signal.sigtimedwait(STOP_SIGNALS, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
