"""Checkpoints of a :class:`irnn_jax.train.TrainState` with orbax: save every N steps, keep the last K.

Checkpoints live in ``<workdir>/checkpoints/<step>/``. Orbax writes each to a temporary
directory and renames it when complete, so a run killed mid-save leaves the previous
checkpoints intact and :func:`latest_step` never returns a half-written one.
"""

from __future__ import annotations

import pathlib
from typing import Any

import jax
import orbax.checkpoint as ocp


def manager(workdir: str | pathlib.Path, keep: int) -> ocp.CheckpointManager:
    """A synchronous checkpoint manager for ``<workdir>/checkpoints`` keeping the last ``keep``."""
    return ocp.CheckpointManager(
        pathlib.Path(workdir).resolve() / "checkpoints",
        options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True, cleanup_tmp_directories=True, enable_async_checkpointing=False
        ),
    )


def save(checkpoints: ocp.CheckpointManager, step: int, state: Any) -> None:
    """Write ``state`` as the checkpoint of ``step`` and wait until it is on disk."""
    checkpoints.save(step, args=ocp.args.StandardSave(state), force=True)
    checkpoints.wait_until_finished()


def latest_step(checkpoints: ocp.CheckpointManager) -> int | None:
    """The step of the newest complete checkpoint, or ``None``."""
    return checkpoints.latest_step()


def restore(checkpoints: ocp.CheckpointManager, step: int, like: Any) -> Any:
    """The state saved at ``step``, with the structure, shapes and dtypes of ``like``."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    return checkpoints.restore(step, args=ocp.args.StandardRestore(abstract))
