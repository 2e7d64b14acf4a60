"""MNIST through TFDS's random-access ``tfds.data_source`` (no TensorFlow needed once prepared).

``load_mnist(data_dir)`` reads the ``mnist`` dataset that ``tfds`` has prepared under
``data_dir`` (TFDS's default directory when ``None``) and returns the arrays
:func:`irnn_jax.data.load` gives for the wheel: the last sixth of TFDS's training split is valid
(10,000 of 60,000), the rest train, and test is TFDS's test split. Needs the ``tfds`` extra
(``pip install 'irnn_jax[tfds]'``).
"""

from __future__ import annotations

import numpy as np

from irnn_jax.data.wheels import DataError


def load_mnist(data_dir: str | None = None) -> dict[str, np.ndarray]:
    """The MNIST arrays from ``tfds.data_source('mnist', data_dir=data_dir)``."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(
            "task.source 'tfds' needs tensorflow-datasets: pip install 'irnn_jax[tfds]'"
        ) from None
    arrays = {}
    for split in ("train", "test"):
        try:
            source = tfds.data_source("mnist", split=split, data_dir=data_dir, download=False)
        except Exception as error:  # TFDS raises several types for a missing or unprepared dataset
            raise DataError(
                f"TFDS has no prepared 'mnist' {split} split under data_dir={data_dir!r} "
                f"(prepare it with `tfds build mnist`): {error}"
            ) from None
        examples = [source[index] for index in range(len(source))]
        images = np.stack([np.asarray(example["image"], np.uint8).reshape(-1) for example in examples])
        if images.shape[1:] != (784,):
            raise DataError(f"TFDS 'mnist' {split} images have {images.shape[1]} pixels, expected 784")
        arrays[f"{split}_images"] = images
        arrays[f"{split}_labels"] = np.array([example["label"] for example in examples], np.uint8)
    train_images, train_labels = arrays.pop("train_images"), arrays.pop("train_labels")
    split_at = len(train_labels) - len(train_labels) // 6
    return {
        "train_images": train_images[:split_at],
        "train_labels": train_labels[:split_at],
        "valid_images": train_images[split_at:],
        "valid_labels": train_labels[split_at:],
        **arrays,
    }
