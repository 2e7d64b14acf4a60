"""Stopping a run from outside: SIGTERM and SIGINT while it trains.

Schedulers (SLURM, Kubernetes, preemptible TPU and GPU machines) send SIGTERM and wait a grace
period before they kill a job; Ctrl-C sends SIGINT. While :func:`catching` is active, the first
of these signals only sets a flag: the training loop finishes the step in flight, checkpoints it,
writes its log lines and raises :class:`~irnn_jax.core.errors.StoppedError`, which the command
line turns into the conventional exit status (128 + the signal's number: 143 for SIGTERM, 130
for SIGINT). A second signal stops the process at once (``SystemExit`` for SIGTERM,
``KeyboardInterrupt`` for SIGINT): a checkpoint cut short is never renamed into place
(:mod:`irnn_jax.training.checkpoint`), so the ones saved before it stay restorable.

In a job of several processes each may get its signal at a different step; they agree on the
step to stop at by exchanging their flags (:func:`irnn_jax.runtime.distributed.any_process`) at
the end of each log window, so all of them stop, and save, at the same step.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

import jax

from irnn_jax.core.errors import StoppedError
from irnn_jax.runtime import distributed

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """Whether a stop was asked for, and by which signal (set by :func:`catching`'s handler)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.signal_number: int | None = None
        self._log = log
        self._alone: bool | None = None  # whether this process is the whole job

    @property
    def requested(self) -> bool:
        """Whether a signal asked this process to stop.

        Returns:
          True once SIGTERM or SIGINT arrived.
        """
        return self.signal_number is not None

    def due(self, window_ends: bool) -> bool:
        """Whether the run stops after the step it just made.

        Args:
          window_ends: whether that step ends a log window, where the processes of a
            multi-process job exchange their flags.

        Returns:
          Alone: whether a signal arrived. In a job of several processes: at a window's end,
          whether any process got one (every process gets the same answer), else False.
        """
        if self._alone is None:  # asked once: this runs after every training step
            self._alone = jax.process_count() == 1
        if self._alone:
            return self.requested
        return window_ends and distributed.any_process(self.requested)

    def stopped(self, step: int, saved: str, resume_hint: str) -> StoppedError:
        """The exception that ends a run stopped after ``step``.

        Args:
          step: the step the run stopped at, and checkpointed.
          saved: what was saved and where, for the message.
          resume_hint: how to continue the run.

        Returns:
          An :class:`StoppedError` whose message names the signal, the step, what was saved and
          how to go on.
        """
        number = self.signal_number if self.signal_number is not None else signal.SIGTERM
        name = signal.Signals(number).name
        return StoppedError(f"stopped by {name} after step {step}: {saved}; {resume_hint}", number, step)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if self.requested:
            self._log(f"second {name}: stopping at once; the checkpoints saved before stay restorable")
            raise KeyboardInterrupt if number == signal.SIGINT else SystemExit(128 + number)
        self.signal_number = number
        self._log(f"{name} received: stopping after the step in flight, which is checkpointed first")


@contextlib.contextmanager
def catching(log: Callable[[str], None] = print) -> Iterator[StopRequest]:
    """Catch SIGTERM and SIGINT inside the block as a :class:`StopRequest`.

    Outside the main thread (where Python allows no signal handlers) the request never fires
    and the signals keep their handlers. The previous handlers are restored on leaving.

    Args:
      log: where the lines that acknowledge a signal go.

    Yields:
      The :class:`StopRequest` the handlers set.
    """
    request = StopRequest(log)
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {number: signal.getsignal(number) for number in SIGNALS}
    for number in SIGNALS:
        signal.signal(number, request._handle)
    try:
        yield request
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
