"""Your own task, initialiser and optimiser, trained by ``irnn-jax`` like the packaged ones.

Each is named in a config by its import path (``"examples.extending:DelayedRecall"``), which
works from the command line and in a later process (a resume, a report) as long as the module
imports; or registered by a plain name for the session (``tasks.register("delayed_recall",
DelayedRecall)``). ``examples/extending_config.py`` is a config that uses all three:

    PYTHONPATH=. irnn-jax train --config examples/extending_config.py --workdir runs/recall
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import optax

from irnn_jax.tasks import base


@dataclasses.dataclass(frozen=True)
class DelayedRecall(base.Task):
    """Regress the input seen ``delay`` steps before the end of a sequence of ``seq_len``
    uniform values: a memory task whose difficulty grows with ``delay``.

    Its fields (``seq_len``, ``delay``, ``held_out_size``) are its config section's fields.
    """

    seq_len: int = 20
    delay: int = 5
    held_out_size: int = 512

    # Plain class attributes (no annotation), so that they are not config fields.
    input_size = 1
    output_size = 1
    metric = "mse"
    baseline = 1 / 12  # predicting the mean 0.5 of U(0, 1)

    def __post_init__(self) -> None:
        if not 0 <= self.delay < self.seq_len:
            raise ValueError(f"delay must be in [0, seq_len), got delay={self.delay}, seq_len={self.seq_len}")

    def _draw(self, key: jax.Array, batch_size: int) -> base.Batch:
        xs = jax.random.uniform(key, (batch_size, self.seq_len, 1))
        return xs, xs[:, self.seq_len - 1 - self.delay, :]

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[base.Batch]:
        if split == "train":
            yield from base.per_step(base.train_key(key), start_step, lambda k: self._draw(k, batch_size))
            return
        held_out = self._draw(jax.random.PRNGKey({"valid": 1, "test": 2}[split]), self.held_out_size)
        yield from base.in_order(held_out, batch_size)

    def loss(self, outputs: jax.Array, targets: jax.Array) -> jax.Array:
        return jnp.mean((outputs - targets) ** 2)

    def metrics(self, outputs: jax.Array, targets: jax.Array) -> dict[str, jax.Array]:
        return {"mse": self.loss(outputs, targets)}


def uniform_diagonal(low: float = 0.9, high: float = 1.0):
    """A recurrent initialiser factory: a diagonal matrix with entries drawn from U(low, high)
    (configs pass ``low`` and ``high``); the JAX ``(key, shape, dtype)`` contract."""

    def init(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
        rows, columns = shape
        if rows != columns:
            raise ValueError(f"uniform_diagonal needs a square shape, got {shape}")
        return jnp.diag(jax.random.uniform(key, (rows,), dtype, low, high))

    return init


def lion(learning_rate: float) -> optax.GradientTransformation:
    """An optimiser factory: Lion (Chen et al. 2023) with optax's defaults."""
    return optax.lion(learning_rate)
