"""Checkpoints of a :class:`irnn_jax.training.steps.TrainState` with orbax: save every N steps,
keep the last K.

Checkpoints live in ``<workdir>/checkpoints/<step>/``. Orbax writes each to a temporary
directory and renames it when complete, so a run killed mid-save leaves the previous
checkpoints intact and :func:`latest_step` never returns a half-written one.

After each save the sha256 of every file of the checkpoint goes to
``<workdir>/checkpoint_digests.json``. :func:`restore_latest` restores the newest checkpoint
whose files still match and that orbax can read; a damaged one is moved (never deleted) to
``<workdir>/unrestorable_checkpoints/`` and the next older one is tried.

In a job of several processes (:mod:`irnn_jax.runtime.distributed`) every process calls these functions
alike: orbax saves and restores across them, the main process alone records digests and moves
a damaged checkpoint, and the workdir is on a file system that all of them see.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import pathlib
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import jax
import orbax.checkpoint as ocp

from irnn_jax.core.errors import WorkdirError
from irnn_jax.runtime import distributed
from irnn_jax.training import workdir as workdir_lib

SET_ASIDE_DIR = "unrestorable_checkpoints"


def manager(workdir: str | pathlib.Path, keep: int | None, which: str = "latest") -> ocp.CheckpointManager:
    """A synchronous checkpoint manager of a run's checkpoints.

    Args:
      workdir: the run's workdir.
      keep: how many checkpoints to keep, the newest (``None``: all, the caller deletes).
      which: ``'latest'``, the run's checkpoints in ``<workdir>/checkpoints``, or ``'best'``, its
        best held-out one in ``<workdir>/best/checkpoints`` (its digests beside it).

    Returns:
      The manager; close it when done.
    """
    root = pathlib.Path(workdir).resolve()
    root = root if which == "latest" else root / workdir_lib.BEST_DIR
    return ocp.CheckpointManager(
        root / workdir_lib.CHECKPOINTS_DIR,
        item_handlers=ocp.StandardCheckpointHandler(),
        options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True, cleanup_tmp_directories=True, enable_async_checkpointing=False
        ),
    )


def save(checkpoints: ocp.CheckpointManager, step: int, state: Any) -> None:
    """Write ``state`` as the checkpoint of ``step``, wait until it is on disk, record its digests.

    Raises:
      WorkdirError: the file system refused the write (no space left, ...): orbax's temporary
        directory is removed and the checkpoints saved before stay as they were
        (:func:`irnn_jax.training.workdir.writing`).
    """
    needed = sum(leaf.nbytes for leaf in jax.tree.leaves(state))  # before orbax's compression
    undo = functools.partial(_remove_partial, checkpoints)
    with workdir_lib.writing(_step_dir(checkpoints, step), needed, undo), _quiet_refused_writes():
        checkpoints.save(step, args=ocp.args.StandardSave(state), force=True)
        checkpoints.wait_until_finished()
    if not distributed.is_main():  # every process saves its share; the main one records digests
        return
    digests = {
        str(kept): recorded
        for kept, recorded in _read_digests(checkpoints).items()
        if int(kept) in checkpoints.all_steps()
    }
    digests[str(step)] = _file_digests(_step_dir(checkpoints, step))
    workdir_lib.write_text(_digests_path(checkpoints), json.dumps(digests, indent=1, sort_keys=True) + "\n")


# A refused save raises while tensorstore may still be writing the save's other arrays (and
# recreating their directories) on its own threads, which Python cannot join: its temporary
# directory counts as removed once it has stayed away this long.
PARTIAL_QUIET_S = 0.5
PARTIAL_GIVE_UP_S = 30.0


def _remove_partial(checkpoints: ocp.CheckpointManager) -> None:
    """Remove the temporary directory of a save the file system refused (the main process's),
    again whenever tensorstore's late writes bring it back, until it stays away
    :data:`PARTIAL_QUIET_S` seconds (or :data:`PARTIAL_GIVE_UP_S` have passed: orbax removes
    what is left when the run resumes)."""
    if distributed.is_main():
        give_up, quiet_since = time.monotonic() + PARTIAL_GIVE_UP_S, time.monotonic()
        while time.monotonic() - quiet_since < PARTIAL_QUIET_S and time.monotonic() < give_up:
            partials = list(pathlib.Path(checkpoints.directory).glob("*.orbax-checkpoint-tmp*"))
            for partial in partials:
                shutil.rmtree(partial, ignore_errors=True)
            if partials:
                quiet_since = time.monotonic()
            time.sleep(PARTIAL_QUIET_S / 10)
    checkpoints.reload()


class _DropRefusedWrites(logging.Filter):
    """Drops orbax's own log line of a write the file system refused: :func:`save` reports it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return workdir_lib.storage_problem(Exception(record.getMessage())) is None


@contextlib.contextmanager
def _quiet_refused_writes() -> Iterator[None]:
    logger, drop = logging.getLogger("absl"), _DropRefusedWrites()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def latest_step(checkpoints: ocp.CheckpointManager) -> int | None:
    """The step of the newest complete checkpoint, or ``None``."""
    return checkpoints.latest_step()


def restore(checkpoints: ocp.CheckpointManager, step: int, like: Any) -> Any:
    """The state saved at ``step``, with the structure, shapes and dtypes of ``like``."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    return checkpoints.restore(step, args=ocp.args.StandardRestore(abstract))


def restore_latest(
    checkpoints: ocp.CheckpointManager, like: Any, log: Callable[[str], None] = print
) -> tuple[int, Any] | None:
    """``(step, state)`` of the newest checkpoint that restores, or ``None`` if there is none.

    A checkpoint whose files no longer match their digests (or, saved before digests were
    recorded, that orbax cannot read) is reported by its step and set aside; the next older one
    is tried. A checkpoint whose files match their digests but does not restore is not damaged:
    orbax's error is raised as it is.

    Raises:
      WorkdirError: if a checkpoint holds arrays of other shapes than ``like`` (a different
        model: not damage, so nothing is set aside), or if checkpoints existed and none restored.
    """
    steps = sorted(checkpoints.all_steps(), reverse=True)
    set_aside = []
    for step in steps:
        recorded = _read_digests(checkpoints).get(str(step))
        problem = _damage(checkpoints, step, recorded)
        if problem is None:
            _check_shapes(checkpoints, step, like)
            try:
                return step, restore(checkpoints, step, like)
            except Exception as error:  # orbax and tensorstore raise many types for unreadable files
                if recorded is not None:
                    raise  # its files are as written: not damage, so a bug to see, not to hide
                problem = (
                    f"orbax could not read it ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
                )
        set_aside.append(_set_aside(checkpoints, step))
        log(f"the checkpoint of step {step} does not restore: {problem}; moved to {set_aside[-1]}")
    if set_aside:
        raise WorkdirError(
            f"none of the {len(steps)} checkpoints in {checkpoints.directory} restores (all moved to "
            f"{set_aside[-1].parent}); start a new --workdir, or --resume again to start this one from step 0"
        )
    return None


def _damage(checkpoints: ocp.CheckpointManager, step: int, recorded: dict[str, str] | None) -> str | None:
    """What differs from the digests ``recorded`` when ``step`` was saved (``None``: intact or unrecorded)."""
    if recorded is None:
        return None
    actual = _file_digests(_step_dir(checkpoints, step))
    for name, digest in sorted(recorded.items()):
        if name not in actual:
            return f"{name} is missing"
        if actual[name] != digest:
            return f"{name} has changed since it was written (sha256 mismatch)"
    return None


def _check_shapes(checkpoints: ocp.CheckpointManager, step: int, like: Any) -> None:
    """Raise unless the arrays saved at ``step`` have the shapes and dtypes of ``like``'s leaves."""
    try:
        saved = _shapes(checkpoints.item_metadata(step).tree)
    except Exception:  # unreadable metadata: left for the restore to report as damage
        return
    expected = _shapes(like)
    differences = [
        f"{name}: saved {saved.get(name, 'nothing')}, this config builds {expected.get(name, 'nothing')}"
        for name in sorted(set(saved) | set(expected))
        if saved.get(name) != expected.get(name)
    ]
    if differences:
        raise WorkdirError(
            f"the checkpoint of step {step} holds a different model or optimiser than this config builds "
            f"({'; '.join(differences[:4])}); resume with the config that made it, or start a new --workdir"
        )


def _shapes(tree: Any) -> dict[str, str]:
    """``{'params/rnn/layer_0/w_hh': '(100, 100) float32', ...}`` of a state or of orbax metadata."""

    def name(path: tuple[Any, ...]) -> str:
        return "/".join(
            str(getattr(key, "key", getattr(key, "name", getattr(key, "idx", key)))) for key in path
        )

    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {name(path): f"{tuple(leaf.shape)} {jax.numpy.dtype(leaf.dtype).name}" for path, leaf in leaves}


def _set_aside(checkpoints: ocp.CheckpointManager, step: int) -> pathlib.Path:
    """Move the checkpoint of ``step`` out of orbax's sight into ``unrestorable_checkpoints/``."""
    directory = pathlib.Path(checkpoints.directory)
    target_dir = directory.parent / SET_ASIDE_DIR
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f"{step}-{time.strftime('%Y%m%dT%H%M%S')}"
    distributed.barrier(f"checkpoint {step} read")  # every process has judged it before it moves
    if distributed.is_main():
        _step_dir(checkpoints, step).rename(target)
    distributed.barrier(f"checkpoint {step} set aside")
    checkpoints.reload()
    return target


def _step_dir(checkpoints: ocp.CheckpointManager, step: int) -> pathlib.Path:
    return pathlib.Path(checkpoints.directory) / str(step)


def _digests_path(checkpoints: ocp.CheckpointManager) -> pathlib.Path:
    return pathlib.Path(checkpoints.directory).parent / workdir_lib.DIGESTS_FILE


def _read_digests(checkpoints: ocp.CheckpointManager) -> dict[str, dict[str, str]]:
    path = _digests_path(checkpoints)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:  # a damaged digest file vouches for nothing: restore without it
        return {}


def _file_digests(directory: pathlib.Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
