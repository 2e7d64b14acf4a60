"""A run's workdir: one run at a time (a lock), the config it was started with, and the name of
every file a run writes there.

``lock(workdir)`` holds an exclusive ``flock`` on ``<workdir>/lock`` for the life of the run
and writes the holder's pid and host into it. The kernel drops the lock when its process dies,
so a lock file left by a killed run is taken over (with a note) and never blocks a resume.

``<workdir>/config.json`` records the config a run started with. A resumed run may change only
:data:`RESUMABLE_FIELDS` (its budget and its bookkeeping); every other field decides the
parameters, the data stream or the optimiser state, and a change to it is refused by name.

A write the file system refuses (no space left, a quota, a read-only or unwritable workdir) is
one :class:`~irnn_jax.core.errors.WorkdirError` naming the path, the bytes the write needed and
how to go on (:func:`writing`): a JSON file is replaced whole or not at all
(:func:`write_text`) and a log line is appended whole or not at all (:func:`append_line`), so
what was written before stays as it was and ``--resume`` works once space is freed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import pathlib
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from irnn_jax.config import schema
from irnn_jax.core.errors import WorkdirError

# Every file a run writes into its workdir, named once here.
LOCK_FILE = "lock"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"  # the training log: one JSON line per window and evaluation
DIAGNOSTICS_FILE = "diagnostics.jsonl"
SUMMARY_FILE = "summary.json"  # the finished run's results
SWEEP_FILE = "sweep.json"  # a sweep's per-run results and its best run
SWEEP_PARAMS_FILE = "sweep_params.npz"  # every run's final and best parameters, run axis first
SWEEP_RUNS_FILE = "sweep_runs.json"  # a sweep's runs and execution, checked when it resumes
CHECKPOINTS_DIR = "checkpoints"
DIGESTS_FILE = "checkpoint_digests.json"
BEST_DIR = "best"  # the best held-out checkpoint: best/checkpoints/<step>/, best/checkpoint_digests.json
TASK_ARTIFACTS_FILE = "task_artifacts.npz"  # what the task needs to be rebuilt (MNIST's pixel order)
TENSORBOARD_DIR = "tensorboard"

# Fields a resumed run may change (the train section's resumable ones): the rest must equal the
# recorded config.
RESUMABLE_FIELDS = schema.RESUMABLE_FIELDS


def prepare(workdir: str | pathlib.Path) -> pathlib.Path:
    """Create ``workdir`` (and its parents) unless it exists; refuse a path that is not a directory."""
    path = pathlib.Path(workdir)
    if path.exists() and not path.is_dir():
        raise WorkdirError(
            f"--workdir {path} is a file, not a directory; name a directory (it is created if new)"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise WorkdirError(f"--workdir {path}: a part of the path is a file, not a directory") from None
    except PermissionError:
        raise WorkdirError(f"--workdir {path} cannot be created: permission denied") from None
    return path


@contextlib.contextmanager
def lock(workdir: pathlib.Path, log: Callable[[str], None] = print) -> Iterator[None]:
    """Hold ``workdir`` for this process until the block ends.

    Raises:
      WorkdirError: naming the pid and host of the live run that holds it.
    """
    path = workdir / LOCK_FILE
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            raise WorkdirError(
                f"{workdir} is in use by another run ({_describe_holder(handle.read())}); wait for it to "
                "end or choose another --workdir"
            ) from None
        handle.seek(0)
        previous = handle.read()
        if previous.strip():
            holder = _describe_holder(previous)
            log(f"note: took over the lock of {workdir} left by a run that no longer holds it ({holder})")
        handle.seek(0)
        handle.truncate()
        holder = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}) + "\n"
        with writing(path, len(holder)):
            handle.write(holder)
            handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()  # an empty lock file: released cleanly
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _describe_holder(content: str) -> str:
    try:
        holder = json.loads(content)
        return f"pid {holder['pid']} on host {holder['host']}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"


def record_config(workdir: pathlib.Path, config: Mapping[str, Any]) -> None:
    """Write the config a run starts with to ``<workdir>/config.json``."""
    write_text(workdir / CONFIG_FILE, json.dumps(as_dict(config), indent=1, sort_keys=True) + "\n")


# What an errno of a refused write means for the user: free space, or make the workdir writable.
_STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def storage_problem(error: BaseException) -> str | None:
    """What about the file system made a write fail, or ``None`` for any other error.

    Args:
      error: the exception a write raised: an ``OSError``, or tensorstore's error (orbax writes
        arrays with tensorstore, whose message ends ``[os_error_code='28']``).

    Returns:
      For example ``'no space left on device'``; ``None`` if ``error`` is not a refused write.
    """
    if isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS:
        return _STORAGE_ERRNOS[error.errno]
    found = re.search(r"os_error_code='(\d+)'", str(error))
    return _STORAGE_ERRNOS.get(int(found.group(1))) if found else None


@contextlib.contextmanager
def writing(path: pathlib.Path, needed_bytes: int, undo: Callable[[], None] | None = None) -> Iterator[None]:
    """Turn a write inside the block that the file system refuses into one clear error.

    Args:
      path: what is being written, for the message.
      needed_bytes: about how many bytes the write needs.
      undo: called first when the write is refused, to leave no partial file behind.

    Yields:
      Nothing; the block runs as it is.

    Raises:
      WorkdirError: the write was refused (:func:`storage_problem`); the message names ``path``,
        the problem and ``needed_bytes``. Any other error passes unchanged.
    """
    try:
        yield
    except Exception as error:
        problem = storage_problem(error)
        if problem is None:
            raise
        if undo is not None:
            undo()
        raise WorkdirError(
            f"cannot write {path}: {problem} (about {needed_bytes:,} bytes needed); what was saved "
            "before is intact: free space (or make the workdir writable), then continue with --resume"
        ) from None


def write_text(path: pathlib.Path, text: str) -> None:
    """Replace ``path`` by ``text`` whole or not at all (a temporary file renamed over it).

    Args:
      path: the file to write.
      text: its new content.

    Raises:
      WorkdirError: the file system refused the write; ``path`` is as it was (:func:`writing`).
    """
    temporary = path.with_name(f".{path.name}.tmp")
    with writing(path, len(text.encode()), undo=lambda: temporary.unlink(missing_ok=True)):
        temporary.write_text(text)
        os.replace(temporary, path)


def write_arrays(path: pathlib.Path, arrays: Mapping[str, Any]) -> None:
    """Write ``arrays`` to the ``.npz`` file ``path``, whole or not at all.

    Args:
      path: the file to write.
      arrays: the arrays by name (``numpy.savez``'s keywords).

    Raises:
      WorkdirError: the file system refused the write; no partial file is left (:func:`writing`).
    """
    needed = sum(np.asarray(array).nbytes for array in arrays.values())
    with writing(path, needed, undo=lambda: path.unlink(missing_ok=True)):
        np.savez(path, **arrays)


def append_line(path: pathlib.Path, line: str) -> None:
    """Append ``line`` and a newline to ``path`` whole or not at all.

    Args:
      path: the file (created if missing).
      line: one line, without its newline.

    Raises:
      WorkdirError: the file system refused the write; ``path`` is cut back to its size before
        (:func:`writing`).
    """
    size = path.stat().st_size if path.exists() else 0

    def cut_back() -> None:
        if path.exists():
            os.truncate(path, size)  # frees what the refused write took

    with writing(path, len(line.encode()) + 1, undo=cut_back), path.open("a") as file:
        file.write(line + "\n")


def check_resumable(
    workdir: pathlib.Path, config: Mapping[str, Any], log: Callable[[str], None] = print
) -> None:
    """Refuse to resume with a config that changes more than :data:`RESUMABLE_FIELDS` (the caller
    then records ``config``: the resumable fields as now in effect).

    A workdir from before configs were recorded passes, with a note.

    Raises:
      WorkdirError: listing each changed field with its recorded and its new value.
    """
    path = workdir / CONFIG_FILE
    if not path.exists():
        log(f"note: {workdir} records no config (an older run); recording this one for later resumes")
        return
    try:
        recorded = json.loads(path.read_text())
    except ValueError:
        raise WorkdirError(f"{path} is not valid JSON; restore it or start a new --workdir") from None
    recorded_fields, new_fields = _flatten(schema.complete(recorded)), _flatten(as_dict(config))
    changed = [
        f"{name} {recorded_fields.get(name, '(absent)')!r} -> {new_fields.get(name, '(absent)')!r}"
        for name in sorted(set(recorded_fields) | set(new_fields))
        if name not in RESUMABLE_FIELDS and recorded_fields.get(name) != new_fields.get(name)
    ]
    if changed:
        raise WorkdirError(
            f"--resume with a config that changes the run recorded in {path}: {'; '.join(changed)}. "
            f"Only {', '.join(RESUMABLE_FIELDS)} may change on resume; start a new --workdir for the rest"
        )


def as_dict(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config (``ConfigDict`` or nested mappings) as plain JSON-ready dicts."""
    return json.loads(config.to_json()) if hasattr(config, "to_json") else json.loads(json.dumps(config))


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
