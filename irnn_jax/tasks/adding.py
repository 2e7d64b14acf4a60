"""The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015, section 4.1).

Each example is a sequence of ``seq_len`` steps with two input channels: a value drawn
uniformly from [0, 1] and a marker that is 1 at exactly two steps and 0 elsewhere. The target
is the sum of the two marked values. Marker rule (ours, the common one): the first marker is
uniform over the first half, steps ``[0, T//2)``, the second uniform over the second half,
``[T//2, T)``. Always predicting 1 gives MSE ``Var(u1 + u2) = 1/6`` (the paper prints 0.1767).

Training batches are a pure function of ``(key, step)``; the validation and test sets are
fixed 10,000-example sets drawn from keys that do not depend on the training seed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator

import jax
import jax.numpy as jnp

from irnn_jax.core import checks
from irnn_jax.tasks import base

Batch = tuple[jax.Array, jax.Array]
BASELINE_MSE = 1.0 / 6.0
SPLITS = ("train", "valid", "test")
_HELD_OUT_SEEDS = {"valid": 2015, "test": 1504}


def sample(key: jax.Array, batch_size: int, seq_len: int) -> Batch:
    """Draw ``(inputs [B, T, 2], targets [B, 1])`` of the adding problem from ``key``.

    Args:
      key: a PRNG key.
      batch_size: ``B``, examples to draw.
      seq_len: ``T``, steps per sequence (>= 2 for a marker in each half).

    Returns:
      ``(inputs, targets)``, float32, inputs ``[B, T, 2]`` (value, marker) and targets ``[B, 1]``,
      the sum of the two marked values.
    """
    key_values, key_first, key_second = jax.random.split(key, 3)
    values = jax.random.uniform(key_values, (batch_size, seq_len))
    half = seq_len // 2
    first = jax.random.randint(key_first, (batch_size,), 0, half)
    second = jax.random.randint(key_second, (batch_size,), half, seq_len)
    markers = jax.nn.one_hot(first, seq_len) + jax.nn.one_hot(second, seq_len)
    inputs = jnp.stack([values, markers], axis=-1)
    targets = jnp.sum(values * markers, axis=1, keepdims=True)
    return inputs, targets


@dataclasses.dataclass(frozen=True)
class AddingProblem(base.Task):
    """The adding problem at sequence length ``seq_len`` (T >= 2)."""

    seq_len: int
    held_out_size: int = 10_000

    input_size = 2
    output_size = 1
    metric = "mse"
    baseline = BASELINE_MSE

    def __post_init__(self) -> None:
        if isinstance(self.seq_len, bool) or not isinstance(self.seq_len, int) or self.seq_len < 2:
            raise ValueError(
                f"the adding problem needs seq_len (T) an int >= 2, got seq_len={self.seq_len!r}"
            )
        checks.positive_int(self.held_out_size, "held_out_size")

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[Batch]:
        """Yield batches: endless ``train`` batches, batch ``step`` drawn from
        ``fold_in(key, step)``, or one pass over the fixed ``valid``/``test`` set (the last
        batch may be smaller; ``key`` is unused).

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.
          batch_size: examples per batch.
          key: the PRNG key of the training batches; needed for ``'train'`` only.
          start_step: the first training batch.

        Yields:
          ``(inputs [B, T, 2], targets [B, 1])``, float32, as :func:`sample` draws them.

        Raises:
          ValueError: for an unknown ``split``, a non-positive ``batch_size`` or ``'train'``
            without ``key`` (when the first batch is asked for).
        """
        checks.one_of(split, SPLITS, "split")
        checks.positive_int(batch_size, "batch_size")
        if split == "train":
            yield from base.per_step(
                base.train_key(key), start_step, lambda key: _sample_jit(key, batch_size, self.seq_len)
            )
        yield from base.in_order(self._held_out(split), batch_size)

    def loss(self, outputs: jax.Array, targets: jax.Array) -> jax.Array:
        """Mean squared error.

        Args:
          outputs: predictions ``[B, 1]``.
          targets: the sums ``[B, 1]``.

        Returns:
          The scalar MSE over the batch.
        """
        return jnp.mean((outputs - targets) ** 2)

    def metrics(self, outputs: jax.Array, targets: jax.Array) -> dict[str, jax.Array]:
        """``{'mse': ...}`` over the batch.

        Args:
          outputs: predictions ``[B, 1]``.
          targets: the sums ``[B, 1]``.

        Returns:
          ``{'mse': scalar}``, the same value as :meth:`loss`.
        """
        return {"mse": self.loss(outputs, targets)}

    @functools.cache  # noqa: B019 (instances are frozen, hashable and few)
    def _held_out(self, split: str) -> Batch:
        key = jax.random.PRNGKey(_HELD_OUT_SEEDS[split])
        return _sample_jit(key, self.held_out_size, self.seq_len)


_sample_jit = jax.jit(sample, static_argnums=(1, 2))
