"""The errors a user can act on: bad config, missing or damaged data, a workdir in the way.

The command line prints an :class:`UserError` as one ``irnn-jax: error: ...`` line and exits 2,
and a :class:`StoppedError` (a run stopped by SIGTERM or SIGINT after saving) as one line with
the signal's conventional status (143, 130); any other exception is a bug and surfaces with its
traceback.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class UserError(Exception):
    """Input the user can fix; the message names the bad value and what to do instead."""


class ConfigError(UserError, ValueError):
    """A config field (or override, or command-line value) that is missing, mistyped or out of range."""


class ConfigTypeError(ConfigError, TypeError):
    """A config value of the wrong type."""


class DataError(UserError, ValueError):
    """A dataset could not be fetched, verified or read."""


class WorkdirError(UserError):
    """The workdir cannot be used: locked by another run, a file, or holding another run's checkpoints."""


class StoppedError(Exception):
    """A run stopped by a signal after saving the step it reached.

    Attributes:
      signal_number: the signal's number.
      signal_name: ``'SIGTERM'`` or ``'SIGINT'``.
      exit_code: the conventional exit status, 128 + the signal's number.
      step: the step that was checkpointed.
    """

    def __init__(self, message: str, signal_number: int, step: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number
        self.signal_name = signal.Signals(signal_number).name
        self.exit_code = 128 + signal_number
        self.step = step


@contextlib.contextmanager
def checking_config() -> Iterator[None]:
    """Inside the block, the library's argument checks (``ValueError``, ``TypeError``,
    ``KeyError``) are the config's fault: re-raise them as :class:`ConfigError`."""
    try:
        yield
    except UserError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        kind = ConfigTypeError if isinstance(error, TypeError) else ConfigError
        raise kind(str(error.args[0] if error.args else error)) from error
