"""The task interface, and the batch iterators that tasks share.

A task is a frozen dataclass whose fields are exactly the fields of its config section. It
derives from :class:`Task`, which documents what a task provides and the defaults of the
optional parts, so that the training loop reads them as attributes instead of probing for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import numpy as np

Inputs = Any  # an array [B, T, D] ([B, T] token ids), or a dict of model arguments
Batch = tuple[Inputs, Any]
# How the tasks' headline metrics read: which are better high (the others: low), and which are
# shown as percentages. Sweeps pick their best run and reports write their tables by these.
HIGHER_IS_BETTER = frozenset({"accuracy", "bleu"})
PERCENT = frozenset({"accuracy", "frame_error_rate"})


def higher_is_better(metric: str) -> bool:
    """Whether a higher value of the headline ``metric`` is better (accuracy) or a lower one (an
    error, a loss, a perplexity).

    Args:
      metric: a metric name, e.g. a task's ``metric``.

    Returns:
      True for the metrics in :data:`HIGHER_IS_BETTER`, False for any other name.
    """
    return metric in HIGHER_IS_BETTER


def format_metric(metric: str, value: float) -> str:
    """``value`` of ``metric`` as tables show it: ``'96.66%'`` for a percentage, else 5 digits.

    Args:
      metric: a metric name; those in :data:`PERCENT` are shown as percentages.
      value: the metric's value (a fraction for a percentage metric).

    Returns:
      ``value`` formatted, e.g. ``'96.66%'`` or ``'0.16667'``.
    """
    return f"{100 * value:.2f}%" if metric in PERCENT else f"{value:.5g}"


class Task:
    """What every task provides; subclasses override the required parts.

    Required:

    - ``output_size``: the readout's width.
    - ``input_size``: features per step (tasks with token inputs set ``vocab_size`` instead).
    - ``metric``: the name of the headline metric; ``baseline``: its trivial value on test.
    - ``batches(split, batch_size, key=None, start_step=0)``: ``(inputs, targets)`` batches;
      endless ``train`` batches where batch ``step`` depends only on ``key`` and ``step``, one
      ordered pass over ``valid``/``test``.
    - ``loss(outputs, targets)``: the scalar to minimise.
    - ``metrics(outputs, targets)``: a dict of batch means, with an optional ``count`` that
      weights the batch when held-out averages are formed (e.g. real frames or tokens).

    Optional, with these defaults:

    - ``carries_state``: ``False``; ``True`` when the recurrent state runs on from one batch to
      the next (truncated BPTT).
    - ``vocab_size``: 0; positive when inputs are token ids that the model embeds.
    - ``architecture``: ``'rnn'`` (:class:`irnn_jax.models.RNNModel`); ``'seq2seq'`` for an
      encoder-decoder (:class:`irnn_jax.models.Seq2Seq`), a key of
      ``irnn_jax.models.ARCHITECTURES``.
    - ``complete_metrics(means)``: the means unchanged; adds metrics that need the overall means
      (e.g. perplexity from the mean cross-entropy).
    - ``generated_metrics(model, params, split)``: ``{}``; metrics of what the trained model
      generates, computed outside the jitted evaluation step (e.g. BLEU of translations).
    - ``examples(model, params)``: ``[]``; a few held-out examples of what the trained model
      generates, kept in the run's summary (e.g. test verses, their references and translations).
    - ``artifacts()``: ``{}``; arrays a run keeps beside its metrics (e.g. MNIST's pixel order).

    A task of your own sets the required constants as plain class attributes (no annotation, so
    that they are not config fields) and registers with :func:`irnn_jax.tasks.register`
    (``examples/extending.py``).
    """

    output_size: int
    metric: str
    baseline: float
    carries_state: bool = False
    vocab_size: int = 0
    architecture: str = "rnn"

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[Batch]:
        """``(inputs, targets)`` batches of ``split`` (see the class docstring).

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.
          batch_size: examples per batch (a held-out split's last batch may be smaller).
          key: the PRNG key of the training batches; needed for ``'train'``.
          start_step: the first training batch (to resume a run).

        Yields:
          ``(inputs, targets)`` batches, endless for ``'train'``, one ordered pass otherwise.

        Raises:
          NotImplementedError: unless a subclass overrides it.
        """
        raise NotImplementedError

    def loss(self, outputs: jax.Array, targets: jax.Array) -> jax.Array:
        """The scalar training loss of a batch.

        Args:
          outputs: the model's outputs for the batch.
          targets: the batch's targets.

        Returns:
          The scalar loss.

        Raises:
          NotImplementedError: unless a subclass overrides it.
        """
        raise NotImplementedError

    def metrics(self, outputs: jax.Array, targets: jax.Array) -> dict[str, jax.Array]:
        """Batch means of the task's metrics (and optionally ``count``).

        Args:
          outputs: the model's outputs for the batch.
          targets: the batch's targets.

        Returns:
          ``{metric name: scalar}``, batch means, and optionally ``'count'``, the batch's weight
          in held-out averages.

        Raises:
          NotImplementedError: unless a subclass overrides it.
        """
        raise NotImplementedError

    def loss_and_metrics(self, outputs: Any, targets: Any) -> tuple[jax.Array, dict[str, jax.Array]]:
        """The loss and the metrics of a batch together, as a training step needs them (a task
        whose metrics share the loss's work overrides it).

        Args:
          outputs: the model's outputs for the batch.
          targets: the batch's targets.

        Returns:
          ``(self.loss(outputs, targets), self.metrics(outputs, targets))``.
        """
        return self.loss(outputs, targets), self.metrics(outputs, targets)

    def complete_metrics(self, means: Mapping[str, float]) -> dict[str, float]:
        """The held-out means with the metrics that need them added; by default unchanged.

        Args:
          means: ``{metric name: mean over a held-out split}``.

        Returns:
          A new dict, ``means`` plus any metric computed from them (here none).
        """
        return dict(means)

    def generated_metrics(self, model: Any, params: Any, split: str) -> dict[str, float]:
        """Metrics of what the model generates on a held-out ``split``; by default none.

        Args:
          model: the Flax model.
          params: its parameters.
          split: ``'valid'`` or ``'test'``.

        Returns:
          ``{metric name: value}``; here empty.
        """
        return {}

    def examples(self, model: Any, params: Any) -> list[dict[str, str]]:
        """A few held-out examples of what the model generates, for its run's summary; by
        default none.

        Args:
          model: the Flax model.
          params: its parameters.

        Returns:
          One ``{field: text}`` per example; here empty.
        """
        return []

    def artifacts(self) -> dict[str, np.ndarray]:
        """Arrays a run saves beside its metrics; by default none.

        Returns:
          ``{name: array}``; here empty.
        """
        return {}


def train_key(key: jax.Array | None) -> jax.Array:
    """``key``, or a ``ValueError`` if a train split was asked for without one.

    Args:
      key: the PRNG key given to ``batches``, or ``None``.

    Returns:
      ``key`` unchanged.

    Raises:
      ValueError: if ``key`` is ``None``.
    """
    if key is None:
        raise ValueError("the train split needs a PRNG key, got key=None")
    return key


def per_step(key: jax.Array, start_step: int, draw: Callable[[jax.Array], Batch]) -> Iterator[Batch]:
    """Endless batches, batch ``step`` being ``draw(fold_in(key, step))``, from ``start_step`` on.

    Args:
      key: the PRNG key of the training batches.
      start_step: the first step.
      draw: makes one batch from its key.

    Yields:
      ``draw(fold_in(key, step))`` for ``step = start_step, start_step + 1, ...``, forever.
    """
    step = start_step
    while True:
        yield draw(jax.random.fold_in(key, step))
        step += 1


def epoch_shuffled(
    key: jax.Array, size: int, batch_size: int, start_step: int, take: Callable[[np.ndarray], Batch]
) -> Iterator[Batch]:
    """Endless batches ``take(indices)`` of a dataset of ``size`` examples, from ``start_step`` on.

    Epoch ``e`` is the permutation drawn from ``fold_in(key, e)``, cut into ``size // batch_size``
    batches (the remainder is left out), so batch ``step`` depends only on ``key`` and ``step``.

    Args:
      key: the PRNG key of the training batches.
      size: number of examples.
      batch_size: examples per batch, at most ``size``.
      start_step: the first step.
      take: makes a batch from the examples' indices (an int array ``[batch_size]``).

    Yields:
      ``take(indices)`` for each step from ``start_step`` on, forever.

    Raises:
      ValueError: if ``batch_size > size`` (when the first batch is asked for).
    """
    if batch_size > size:
        raise ValueError(f"batch_size must be at most {size}, the training examples, got {batch_size}")
    per_epoch = size // batch_size
    step, order_epoch, order = start_step, None, None
    while True:
        epoch, index = divmod(step, per_epoch)
        if epoch != order_epoch:
            order_epoch = epoch
            order = np.asarray(jax.random.permutation(jax.random.fold_in(key, epoch), size))
        yield take(order[index * batch_size : (index + 1) * batch_size])
        step += 1


def in_order(batch: Batch, batch_size: int) -> Iterator[Batch]:
    """One pass over ``batch`` (a pytree of arrays, examples first) in slices of ``batch_size``
    (the last may be smaller).

    Args:
      batch: a pytree of arrays sharing their first (example) axis.
      batch_size: examples per slice.

    Yields:
      Pytrees like ``batch`` of consecutive rows, in order.
    """
    size = len(jax.tree.leaves(batch)[0])
    for start in range(0, size, batch_size):
        rows = slice(start, start + batch_size)
        yield jax.tree.map(lambda array, rows=rows: array[rows], batch)


def array_batches(
    split: str,
    dataset: Batch,
    batch_size: int,
    key: jax.Array | None,
    start_step: int,
    prepare: Callable[[Batch], Batch] = lambda batch: batch,
) -> Iterator[Batch]:
    """Batches of a dataset held in memory (a pytree of arrays, examples first), each passed
    through ``prepare``: one ordered pass over a held-out ``split``, endless epoch-shuffled
    batches (:func:`epoch_shuffled`) over ``'train'``.

    Args:
      split: ``'train'`` or a held-out split (any other name).
      dataset: a pytree of arrays sharing their first (example) axis.
      batch_size: examples per batch.
      key: the PRNG key of the training batches; needed for ``'train'``.
      start_step: the first training batch.
      prepare: applied to each batch of ``dataset``'s rows; by default the identity.

    Yields:
      ``prepare(rows)`` batches, endless for ``'train'``, one ordered pass otherwise (the last
      batch may be smaller).

    Raises:
      ValueError: for ``'train'`` without ``key`` or with ``batch_size`` above the number of
        examples (when the first batch is asked for).
    """
    if split != "train":
        yield from map(prepare, in_order(dataset, batch_size))
        return
    size = len(jax.tree.leaves(dataset)[0])
    yield from epoch_shuffled(
        train_key(key),
        size,
        batch_size,
        start_step,
        lambda chosen: prepare(jax.tree.map(lambda array: array[chosen], dataset)),
    )
