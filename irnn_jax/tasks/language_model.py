"""Language modelling on the Penn Treebank (Le et al. 2015, section 4.3), word or character level.

Truncated backpropagation through time with carried state, the classic set-up: a split's token
stream is cut into ``batch_size`` contiguous columns (the ``len % batch_size`` tokens left over
at the end are dropped), and batch ``i`` is the window ``[i * seq_len, (i + 1) * seq_len)`` of
every column, predicting each next token. With ``carry_state`` (the default) the recurrent state
after a window is the initial state of the next; gradients stop at window boundaries. Without
it every window starts from the zero state (the windows are then independent sequences, a
bounded horizon for a ReLU network whose state would otherwise run on through the whole stream).
Training windows
cycle through the stream forever (batch ``step`` is window ``step % windows_per_epoch``; the
state is carried across the wrap too, like across any other boundary), so the batch of a step is
a pure function of the step. Held-out splits are one pass from the zero state, the last window
possibly shorter; every kept token but each column's first is predicted exactly once.

Metrics: cross-entropy in nats per token, and from it perplexity ``exp(CE)`` (word level) or bits
per character ``CE / ln 2`` (character level), computed from the mean over all tokens. The
baseline is the unigram model of the training text evaluated on test.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from irnn_jax import data
from irnn_jax.core import checks, softmax
from irnn_jax.tasks import base

LEVELS = ("word", "char")
SPLITS = ("train", "valid", "test")
Batch = tuple[np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class PennTreebank(base.Task):
    """Next-token prediction on PTB at ``level`` ``'word'`` (10k vocabulary) or ``'char'`` (50)."""

    level: str = "word"
    seq_len: int = 35
    carry_state: bool = True

    def __post_init__(self) -> None:
        checks.one_of(self.level, LEVELS, "level")
        checks.positive_int(self.seq_len, "seq_len")
        if not isinstance(self.carry_state, bool):
            raise TypeError(f"carry_state must be True or False, got carry_state={self.carry_state!r}")

    @property
    def carries_state(self) -> bool:
        """Whether each window starts from the state the previous window ended in."""
        return self.carry_state

    @property
    def metric(self) -> str:
        """``'perplexity'`` (word level) or ``'bits_per_char'`` (character level)."""
        return "perplexity" if self.level == "word" else "bits_per_char"

    @functools.cached_property
    def vocab(self) -> np.ndarray:
        """The tokens, in id order (by training frequency for words, by code point for chars)."""
        return _load()[f"{self.level}_vocab"]

    @property
    def vocab_size(self) -> int:
        """Number of distinct tokens: inputs are ids in ``[0, vocab_size)``."""
        return len(self.vocab)

    @property
    def output_size(self) -> int:
        """One logit per token of the vocabulary."""
        return self.vocab_size

    def tokens(self, split: str) -> np.ndarray:
        """The token ids of ``split`` as one stream (``int32``).

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.

        Returns:
          ``[N]`` int32 ids in ``[0, vocab_size)``, the split's tokens in order.

        Raises:
          ValueError: for an unknown ``split``.
        """
        return _load()[f"{self.level}_{checks.one_of(split, SPLITS, 'split')}"].astype(np.int32)

    @functools.cached_property
    def baseline(self) -> float:
        """The unigram model of the training tokens (add-one smoothed), scored on test."""
        counts = np.bincount(self.tokens("train"), minlength=self.vocab_size) + 1.0
        log_probs = np.log(counts / counts.sum())
        return self.complete_metrics({"cross_entropy": float(-log_probs[self.tokens("test")].mean())})[
            self.metric
        ]

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[Batch]:
        """Yield ``(tokens [B, W], next tokens [B, W])`` windows, ``W = seq_len`` (a held-out
        split's last window may be shorter). ``key`` is unused: the order is fixed.

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.
          batch_size: ``B``, the number of contiguous columns the stream is cut into.
          key: unused.
          start_step: the first training window (``step % windows_per_epoch``).

        Yields:
          ``(inputs, targets)``, int32 NumPy arrays ``[B, W]``, the targets the inputs shifted by
          one token: endless for ``'train'``, one pass otherwise.

        Raises:
          ValueError: for an unknown ``split``, a non-positive ``batch_size``, fewer than 2 tokens
            per column, or (``'train'``) ``seq_len`` longer than a column (when the first batch is
            asked for).
        """
        checks.positive_int(batch_size, "batch_size")
        stream = self.tokens(split)
        columns = len(stream) // batch_size
        if columns < 2:
            raise ValueError(f"batch_size {batch_size} leaves fewer than 2 PTB {split} tokens per column")
        grid = stream[: columns * batch_size].reshape(batch_size, columns)
        starts = range(0, columns - 1, self.seq_len)
        if split != "train":
            for start in starts:
                stop = min(start + self.seq_len, columns - 1)
                yield grid[:, start:stop], grid[:, start + 1 : stop + 1]
            return
        full_windows = (columns - 1) // self.seq_len
        if full_windows == 0:
            raise ValueError(
                f"seq_len {self.seq_len} is longer than a PTB train column ({columns - 1} tokens)"
            )
        step = start_step
        while True:
            start = (step % full_windows) * self.seq_len
            yield grid[:, start : start + self.seq_len], grid[:, start + 1 : start + self.seq_len + 1]
            step += 1

    def loss(self, logits: jax.Array | softmax.Readout, targets: jax.Array) -> jax.Array:
        """Mean cross-entropy per token, in nats.

        Args:
          logits: ``[B, W, vocab_size]``, or the readout that gives them (``model.readout =
            'blocked'``: computed block by block, :mod:`irnn_jax.core.softmax`).
          targets: ``[B, W]`` int next-token ids.

        Returns:
          The scalar cross-entropy averaged over all ``B * W`` tokens.
        """
        return self.metrics(logits, targets)["cross_entropy"]

    def metrics(self, logits: jax.Array | softmax.Readout, targets: jax.Array) -> dict[str, jax.Array]:
        """Cross-entropy, next-token accuracy and ``count``, the number of tokens.

        Args:
          logits: ``[B, W, vocab_size]``, or the readout that gives them.
          targets: ``[B, W]`` int next-token ids.

        Returns:
          ``{'cross_entropy': scalar, 'accuracy': scalar, 'count': float32 scalar}``, means over
          the batch's tokens and their number, ``B * W``; a token counts as predicted when no
          other token scores higher (a tie for the highest logit counts). The cross-entropy is
          differentiable.
        """
        if isinstance(logits, softmax.Readout):
            scores = softmax.cross_entropy(logits, targets)
            total, predicted = scores.cross_entropy, scores.predicted
        else:
            highest = jnp.max(logits, axis=-1)
            shift = jax.lax.stop_gradient(highest)[..., None]
            log_normaliser = jnp.log(jnp.sum(jnp.exp(logits - shift), axis=-1)) + shift[..., 0]
            target_logits = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
            total, predicted = jnp.sum(log_normaliser - target_logits), jnp.sum(target_logits >= highest)
        count = jnp.asarray(targets.size, jnp.float32)
        return {"cross_entropy": total / count, "accuracy": predicted / count, "count": count}

    def loss_and_metrics(
        self, logits: jax.Array | softmax.Readout, targets: jax.Array
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        """The loss and metrics in one pass over the logits: the loss is the metrics'
        cross-entropy.

        Args:
          logits: ``[B, W, vocab_size]``, or the readout that gives them.
          targets: ``[B, W]`` int next-token ids.

        Returns:
          ``(loss, metrics)`` as :meth:`loss` and :meth:`metrics` give them.
        """
        metrics = self.metrics(logits, targets)
        return metrics["cross_entropy"], metrics

    def complete_metrics(self, means: dict[str, float]) -> dict[str, float]:
        """Add the headline metric computed from the mean cross-entropy over all tokens.

        Args:
          means: held-out means, with ``'cross_entropy'`` (nats per token).

        Returns:
          ``means`` plus ``'perplexity'`` (``exp(CE)``, word level, CE capped at 700) or
          ``'bits_per_char'`` (``CE / ln 2``, character level).

        Raises:
          KeyError: if ``means`` has no ``'cross_entropy'``.
        """
        cross_entropy = means["cross_entropy"]
        if self.level == "word":
            return {**means, "perplexity": math.exp(min(cross_entropy, 700.0))}
        return {**means, "bits_per_char": cross_entropy / math.log(2)}


@functools.cache
def _load() -> dict[str, np.ndarray]:
    return data.load("ptb")
