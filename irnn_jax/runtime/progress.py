"""Training progress that shows wherever the run is watched.

- ``'notebook'``: a widget bar (``tqdm.notebook``; Jupyter and Colab kernels);
- ``'bar'``: a text bar on the terminal (``tqdm``, on stderr);
- ``'lines'``: a plain line every ``every_s`` seconds (step, percent, steps/s, loss, time left),
  for logs and CI, where a bar would be noise or invisible;
- ``'none'``: nothing.

``'auto'`` (the default of :func:`irnn_jax.training.train.fit`) picks ``'notebook'`` inside a notebook
kernel that has ipywidgets, ``'bar'`` when stderr is a terminal and ``'lines'`` otherwise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import tqdm

MODES = ("auto", "notebook", "bar", "lines", "none")


class Progress(Protocol):
    """What the training loop calls: the steps done so far and the latest loss."""

    def update(self, step: int, loss: float) -> None:
        """Show that ``step`` steps are done and the latest training loss is ``loss``.

        Args:
          step: the steps done so far, counted from the start of the run (it may go back after a
            rollback).
          loss: the training loss of the latest step.
        """
        ...

    def close(self) -> None:
        """End the display (the training loop calls it once, when it stops)."""
        ...


def in_notebook() -> bool:
    """Whether this process is a Jupyter or Colab kernel (an IPython shell with a kernel app).

    Returns:
      True inside a notebook kernel, False otherwise (including a plain IPython terminal).
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def resolve(mode: str) -> str:
    """The concrete mode ``'auto'`` stands for here; other modes are checked and returned.

    Args:
      mode: one of :data:`MODES`.

    Returns:
      ``mode`` itself unless it is ``'auto'``; for ``'auto'``, ``'notebook'`` inside a notebook
      kernel that has ipywidgets, ``'bar'`` when stderr is a terminal, ``'lines'`` otherwise.

    Raises:
      ValueError: ``mode`` is not one of :data:`MODES`.
    """
    if mode not in MODES:
        raise ValueError(f"progress must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "auto":
        return mode
    if in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        return "notebook"
    return "bar" if sys.stderr.isatty() else "lines"


def start(
    mode: str, total: int, initial: int, log: Callable[[str], None] = print, every_s: float = 30.0
) -> Progress:
    """A progress display of ``total`` steps, ``initial`` of them done (a resumed run).

    Args:
      mode: one of :data:`MODES`, resolved by :func:`resolve`.
      total: the steps of the whole run.
      initial: the steps already done when the display starts.
      log: where ``'lines'`` writes its lines (unused by the other modes).
      every_s: the seconds between two of ``'lines'``'s lines (it also writes one at the last step).

    Returns:
      The display: a tqdm bar (``'notebook'``, ``'bar'``), plain lines (``'lines'``) or nothing
      (``'none'``).

    Raises:
      ValueError: ``mode`` is not one of :data:`MODES`.
    """
    mode = resolve(mode)
    if mode in ("notebook", "bar"):
        return _Bar(mode, total, initial)
    if mode == "lines":
        return _Lines(total, initial, log, every_s)
    return _Silent()


class _Bar:
    """A tqdm bar: the notebook widget or the terminal text bar."""

    def __init__(self, mode: str, total: int, initial: int) -> None:
        if mode == "notebook":
            from tqdm.notebook import tqdm as bar  # needs ipywidgets, which notebook kernels have
        else:
            bar = tqdm.tqdm
        self._bar = bar(total=total, initial=initial, dynamic_ncols=True)

    def update(self, step: int, loss: float) -> None:
        self._bar.update(step - self._bar.n)  # negative after a rollback
        self._bar.set_postfix(loss=f"{loss:.4g}")

    def close(self) -> None:
        self._bar.close()


class _Lines:
    """A plain line every ``every_s`` seconds, and one at the last step."""

    def __init__(self, total: int, initial: int, log: Callable[[str], None], every_s: float) -> None:
        self._total, self._log, self._every_s = total, log, every_s
        self._start_step, self._started = initial, time.perf_counter()
        self._last_line = self._started
        self._step, self._loss = initial, float("nan")

    def update(self, step: int, loss: float) -> None:
        self._step, self._loss = step, loss
        if step >= self._total or time.perf_counter() - self._last_line >= self._every_s:
            self._line()

    def close(self) -> None:
        pass

    def _line(self) -> None:
        now = time.perf_counter()
        self._last_line = now
        rate = (self._step - self._start_step) / max(now - self._started, 1e-9)
        left = (self._total - self._step) / rate if rate > 0 else float("inf")
        self._log(
            f"progress {self._step}/{self._total} ({100 * self._step / self._total:.0f}%), "
            f"{rate:.1f} steps/s, loss {self._loss:.4g}, {_duration(left)} left"
        )


class _Silent:
    def update(self, step: int, loss: float) -> None:
        pass

    def close(self) -> None:
        pass


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "unknown time"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


@contextlib.contextmanager
def heartbeat(message: str, log: Callable[[str], None], every_s: float = 10.0) -> Iterator[None]:
    """Log ``message`` with the seconds elapsed every ``every_s`` seconds while the block runs
    (for waits with no progress of their own to report, such as a download by pip).

    Args:
      message: what to log, followed by ``(N s)``.
      log: the function that writes one log line (called from a background thread).
      every_s: the seconds between two lines; the first comes after ``every_s`` seconds.

    Yields:
      Nothing (``None``); the lines stop when the block ends, however it ends.
    """
    done = threading.Event()
    started = time.perf_counter()

    def beat() -> None:
        while not done.wait(every_s):
            log(f"{message} ({time.perf_counter() - started:.0f} s)")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
