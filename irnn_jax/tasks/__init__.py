"""Tasks: data, loss and metrics. Each task object provides

- ``input_size``, ``output_size``: model sizes;
- ``batches(split, batch_size, key, start_step)``: ``(inputs [B, T, D], targets)`` iterator,
  deterministic for a given key and step;
- ``loss(outputs, targets)`` (a scalar to minimise) and ``metrics(outputs, targets)`` (a dict of
  batch means); ``metric``, the name of the headline metric; ``baseline``, its trivial value;
- optionally ``artifacts()``: arrays a run saves beside its metrics (e.g. MNIST's pixel order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irnn_jax import checks
from irnn_jax.tasks.adding import AddingProblem
from irnn_jax.tasks.mnist import PixelMNIST
from irnn_jax.tasks.tomita import TomitaTask

_BUILDERS = {
    "adding": lambda config: AddingProblem(config["seq_len"], config.get("held_out_size", 10_000)),
    "mnist": lambda config: PixelMNIST(
        config["permuted"], config["permutation_seed"], config["normalization"], config["source"]
    ),
    "tomita": lambda config: TomitaTask(
        config["grammar"],
        tuple(config["train_lengths"]),
        tuple(config["test_lengths"]),
        config["held_out_per_length"],
    ),
}
TASKS = tuple(_BUILDERS)


def from_config(task_config: Mapping[str, Any]) -> AddingProblem | PixelMNIST | TomitaTask:
    """Build the task a config's ``task`` section names (``name`` plus the task's fields)."""
    return _BUILDERS[checks.one_of(task_config["name"], TASKS, "task")](task_config)
