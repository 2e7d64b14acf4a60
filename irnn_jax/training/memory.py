"""How much memory a training step needs, estimated before anything is allocated.

The parameters and optimiser state come from ``jax.eval_shape`` of their initialisation, the
stored activations from ``jax.eval_shape`` of the backward pass's residuals (what ``jax.vjp``
keeps for the gradient): both exact in shape, computed without allocating. Temporaries come on
top of the total, but the residuals count the parameters once more, and a sweep's runs are
summed against one device even where they are looped or spread over several devices.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from irnn_jax.core.errors import ConfigError


def nbytes(tree: Any) -> int:
    """Bytes of all array leaves of ``tree`` (arrays or ``ShapeDtypeStruct``)."""
    return int(
        sum(
            np.prod(leaf.shape, dtype=np.float64) * np.dtype(leaf.dtype).itemsize
            for leaf in jax.tree.leaves(tree)
        )
    )


def training_bytes(
    init_state: Callable[[], Any], loss_of_params: Callable[[Any], jax.Array]
) -> dict[str, int]:
    """``{'state': ..., 'gradients': ..., 'activations': ...}`` in bytes for one run.

    Args:
      init_state: builds the train state (``.params`` and the optimiser state); only traced.
      loss_of_params: the training loss of one batch as a function of the parameters; only traced.
    """
    state = jax.eval_shape(init_state)
    residuals = jax.eval_shape(lambda params: jax.vjp(loss_of_params, params)[1], state.params)
    return {"state": nbytes(state), "gradients": nbytes(state.params), "activations": nbytes(residuals)}


def device_limit() -> tuple[int, str]:
    """``(bytes, description)`` of the memory of the first local device (host RAM on a CPU)."""
    device = jax.local_devices()[0]
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"]), f"{device.device_kind} {device.id}"
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), f"host memory ({device.platform})"


def check_fits(needed: dict[str, int], settings: str, runs: int = 1) -> None:
    """Raise unless ``runs`` copies of ``needed`` (see :func:`training_bytes`) fit the device.

    Raises:
      ConfigError: naming ``settings`` (the config fields that set the size), the estimate and the limit.
    """
    total = runs * sum(needed.values())
    limit, where = device_limit()
    if total > limit:
        per_run = "" if runs == 1 else f" for {runs} runs"
        raise ConfigError(
            f"{settings}: training needs at least {_size(total)}{per_run} (parameters and optimiser "
            f"state {_size(runs * needed['state'])}, gradients {_size(runs * needed['gradients'])}, "
            f"stored activations {_size(runs * needed['activations'])}), more than the "
            f"{_size(limit)} of {where}; "
            "lower model.hidden_size, train.batch_size or the sequence length"
        )


def _size(count: float) -> str:
    units = ("B", "KB", "MB", "GB", "TB", "PB")
    power = min(int(math.log10(max(count, 1)) // 3), len(units) - 1)
    return f"{count / 1000**power:.1f} {units[power]}"
