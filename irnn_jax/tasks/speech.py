"""Frame classification of speech (the set-up of Le et al. 2015, section 4.4, on TIMIT).

Every frame of an utterance is labelled with the utterance's class, and the model predicts a
label at every frame (``readout='sequence'``); the metric is the frame error rate over real
frames. Utterances are padded at the end to the dataset's longest one (a fixed shape, so one
compilation); inputs carry ``lengths``, padded frames get label -1 and never count in the loss or
the metrics (a reversed layer reads each utterance from its own last frame, see
:func:`irnn_jax.models.reverse_time`). Features are standardised per coefficient with the
training split's frame mean and std.

Datasets (see :mod:`irnn_jax.data.speech`):

- ``fsdd``: Free Spoken Digit Dataset MFCCs, 3,000 utterances, 10 digits. It has no speaker ids,
  so the split is ours: seeded and stratified by digit, ``valid_fraction`` and
  ``test_fraction`` of each digit's 300 utterances held out (default 30 + 30 per digit).
- ``japanese_vowels``: the official 270 train / 370 test utterances, 9 speakers; valid is a
  seeded stratified ``valid_fraction`` of the training speakers' utterances (default 3 each).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np
import optax

from irnn_jax import data
from irnn_jax.core import checks
from irnn_jax.tasks import base

DATASETS = ("fsdd", "japanese_vowels")
SPLITS = ("train", "valid", "test")
PAD_LABEL = -1
Batch = tuple[dict[str, np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class SpeechFrames(base.Task):
    """Per-frame classification of the utterances of ``dataset``."""

    dataset: str = "fsdd"
    split_seed: int = 0
    valid_fraction: float = 0.1
    test_fraction: float = 0.1

    metric = "frame_error_rate"

    def __post_init__(self) -> None:
        checks.one_of(self.dataset, DATASETS, "dataset")
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int):
            raise TypeError(f"split_seed must be an int, got {self.split_seed!r}")
        for name in ("valid_fraction", "test_fraction"):
            fraction = getattr(self, name)
            if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 0.5:
                raise ValueError(f"{name} must be a number in (0, 0.5), got {name}={fraction!r}")

    @functools.cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = data.load(self.dataset)
        starts = np.concatenate([[0], np.cumsum(arrays["lengths"])[:-1]])
        split_of = self._assign_splits(arrays)
        train_frames = np.concatenate(
            [
                arrays["frames"][s : s + n]
                for s, n, split in zip(starts, arrays["lengths"], split_of, strict=True)
                if split == 0
            ]
        )
        mean, std = train_frames.mean(0), train_frames.std(0)
        max_len = int(arrays["lengths"].max())
        count, dim = len(arrays["lengths"]), arrays["frames"].shape[1]
        features = np.zeros((count, max_len, dim), np.float32)
        labels = np.full((count, max_len), PAD_LABEL, np.int32)
        for index, (start, length) in enumerate(zip(starts, arrays["lengths"], strict=True)):
            features[index, :length] = (arrays["frames"][start : start + length] - mean) / std
            labels[index, :length] = arrays["labels"][index]
        return {
            "features": features,
            "labels": labels,
            "lengths": arrays["lengths"].astype(np.int32),
            "split": split_of,
            "classes": int(arrays["labels"].max()) + 1,
        }

    def _assign_splits(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Split index per utterance (0 train, 1 valid, 2 test), stratified by label."""
        rng = np.random.default_rng(self.split_seed)
        split_of = np.zeros(len(arrays["labels"]), np.int8)
        if "is_test" in arrays:
            split_of[arrays["is_test"]] = 2
        for label in np.unique(arrays["labels"]):
            pool = np.flatnonzero((arrays["labels"] == label) & (split_of == 0))
            pool = rng.permutation(pool)
            size = len(pool) if "is_test" in arrays else np.sum(arrays["labels"] == label)
            n_valid = round(self.valid_fraction * size)
            split_of[pool[:n_valid]] = 1
            if "is_test" not in arrays:
                split_of[pool[n_valid : n_valid + round(self.test_fraction * size)]] = 2
        return split_of

    @property
    def input_size(self) -> int:
        """Features per frame: 13 MFCCs (FSDD) or 12 LPC cepstra (Japanese Vowels)."""
        return self._arrays["features"].shape[-1]

    @property
    def output_size(self) -> int:
        """Number of classes: 10 digits or 9 speakers."""
        return self._arrays["classes"]

    @property
    def seq_len(self) -> int:
        """Padded length: the dataset's longest utterance."""
        return self._arrays["features"].shape[1]

    @functools.cached_property
    def baseline(self) -> float:
        """Test frame error rate of always answering the most frequent training frame label."""
        labels = self._split_arrays("train")[1]
        majority = np.bincount(labels[labels >= 0]).argmax()
        test = self._split_arrays("test")[1]
        return float(np.mean(test[test >= 0] != majority))

    def split_sizes(self) -> dict[str, int]:
        """Utterances per split.

        Returns:
          ``{'train': n, 'valid': n, 'test': n}``.
        """
        return {split: len(self._split_arrays(split)[1]) for split in SPLITS}

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[Batch]:
        """Yield ``({'xs': [B, T, D], 'lengths': [B]}, labels [B, T])``: endless shuffled train
        batches (epoch ``e`` ordered by ``fold_in(key, e)``), or one ordered pass over valid/test.

        Args:
          split: ``'train'``, ``'valid'`` or ``'test'``.
          batch_size: utterances per batch (at most the training utterances for ``'train'``).
          key: the PRNG key of the training epochs; needed for ``'train'`` only.
          start_step: the first training batch.

        Yields:
          ``({'xs': [B, T, D] float32, 'lengths': [B] int32}, labels [B, T] int32)``, ``T`` =
          :attr:`seq_len`, standardised features zero and labels ``-1`` on padded frames; a
          held-out split's last batch may be smaller.

        Raises:
          ValueError: for an unknown ``split``, a non-positive ``batch_size``, or for ``'train'``
            a missing ``key`` or ``batch_size`` above the training utterances (when the first
            batch is asked for).
        """
        checks.one_of(split, SPLITS, "split")
        checks.positive_int(batch_size, "batch_size")
        features, labels, lengths = self._split_arrays(split)
        yield from base.array_batches(
            split, ({"xs": features, "lengths": lengths}, labels), batch_size, key, start_step
        )

    def loss(self, logits: jax.Array, labels: jax.Array) -> jax.Array:
        """Softmax cross-entropy averaged over real frames.

        Args:
          logits: per-frame logits ``[B, T, classes]`` (``readout='sequence'``).
          labels: ``[B, T]`` int, :data:`PAD_LABEL` (-1) on padded frames.

        Returns:
          The scalar cross-entropy averaged over the frames whose label is not -1 (0 if none).
        """
        mask = labels != PAD_LABEL
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, jnp.where(mask, labels, 0))
        return jnp.sum(losses * mask) / jnp.maximum(jnp.sum(mask), 1)

    def metrics(self, logits: jax.Array, labels: jax.Array) -> dict[str, jax.Array]:
        """Frame error rate and cross-entropy over real frames, and ``count``, their number.

        Args:
          logits: per-frame logits ``[B, T, classes]``.
          labels: ``[B, T]`` int, -1 on padded frames.

        Returns:
          ``{'frame_error_rate': scalar, 'cross_entropy': scalar, 'count': int scalar}``, the
          means over the real frames and their number.
        """
        mask = labels != PAD_LABEL
        frames = jnp.maximum(jnp.sum(mask), 1)
        errors = (jnp.argmax(logits, -1) != labels) & mask
        return {
            "frame_error_rate": jnp.sum(errors) / frames,
            "cross_entropy": self.loss(logits, labels),
            "count": jnp.sum(mask),
        }

    def _split_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        arrays = self._arrays
        chosen = arrays["split"] == SPLITS.index(split)
        return arrays["features"][chosen], arrays["labels"][chosen], arrays["lengths"][chosen]
