"""MNIST from a user directory: the original IDX files, or one ``mnist.npz``.

The directory holds either ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally gzipped (``.gz``),
the format of the original MNIST distribution, or ``mnist.npz`` with the arrays ``x_train``,
``y_train``, ``x_test``, ``y_test`` (the layout Keras distributes; read with
``allow_pickle=False``). The 60,000 training images are split as the wheel's are: the first
50,000 train, the last 10,000 valid.
"""

from __future__ import annotations

import gzip
import pathlib

import numpy as np

from irnn_jax.data.wheels import DataError

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPZ = "mnist.npz"
NPZ_KEYS = {
    "train_images": "x_train",
    "train_labels": "y_train",
    "test_images": "x_test",
    "test_labels": "y_test",
}
_MAGIC = {3: 0x00000803, 1: 0x00000801}  # unsigned bytes, 3-D images / 1-D labels
TRAIN_SIZE = 50_000


def read_idx(path: pathlib.Path, dims: int) -> np.ndarray:
    """A uint8 IDX array of ``dims`` dimensions from ``path`` (gzipped or not)."""
    content = (gzip.decompress if path.suffix == ".gz" else bytes)(path.read_bytes())
    header = 4 + 4 * dims
    if len(content) < header or int.from_bytes(content[:4], "big") != _MAGIC[dims]:
        raise DataError(f"{path} is not a {dims}-D uint8 IDX file (expected magic {_MAGIC[dims]:#010x})")
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = header + int(np.prod(shape))
    if len(content) != expected:
        raise DataError(f"{path} holds {len(content)} bytes, its header {shape} needs {expected}")
    return np.frombuffer(content, np.uint8, offset=header).reshape(shape)


def load_mnist_directory(directory: str | pathlib.Path) -> dict[str, np.ndarray]:
    """The MNIST arrays (as :func:`irnn_jax.data.load` gives them) from a directory of IDX files."""
    directory = pathlib.Path(directory)
    if (directory / NPZ).is_file():
        return _split_train(_read_npz(directory / NPZ), directory)
    arrays = {}
    for name, stem in FILES.items():
        candidates = [directory / stem, directory / f"{stem}.gz"]
        path = next((candidate for candidate in candidates if candidate.is_file()), None)
        if path is None:
            raise DataError(f"MNIST directory {directory} has no {stem} (or {stem}.gz)")
        array = read_idx(path, 3 if name.endswith("images") else 1)
        arrays[name] = array.reshape(len(array), -1) if array.ndim == 3 else array
    return _split_train(arrays, directory)


def _read_npz(path: pathlib.Path) -> dict[str, np.ndarray]:
    """The four arrays of a Keras-layout ``mnist.npz``, images flattened, as uint8."""
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in NPZ_KEYS.values() if key not in archive.files]
        if missing:
            raise DataError(
                f"{path} lacks the array(s) {', '.join(missing)} (expected {', '.join(NPZ_KEYS.values())})"
            )
        arrays = {name: archive[key] for name, key in NPZ_KEYS.items()}
    for name, array in arrays.items():
        if array.min(initial=0) < 0 or array.max(initial=0) > 255:
            raise DataError(f"{path}: {NPZ_KEYS[name]} holds values outside 0..255")
        arrays[name] = (
            array.reshape(len(array), -1).astype(np.uint8)
            if name.endswith("images")
            else array.astype(np.uint8)
        )
    return arrays


def _split_train(arrays: dict[str, np.ndarray], directory: pathlib.Path) -> dict[str, np.ndarray]:
    """Cut the 60,000 training images into train (first 50,000) and valid (last 10,000)."""
    train_images, train_labels = arrays.pop("train_images"), arrays.pop("train_labels")
    if len(train_images) != len(train_labels) or len(train_images) <= TRAIN_SIZE:
        raise DataError(
            f"MNIST directory {directory}: expected more than {TRAIN_SIZE} training images with as many "
            f"labels, got {len(train_images)} images and {len(train_labels)} labels"
        )
    return {
        "train_images": train_images[:TRAIN_SIZE],
        "train_labels": train_labels[:TRAIN_SIZE],
        "valid_images": train_images[TRAIN_SIZE:],
        "valid_labels": train_labels[TRAIN_SIZE:],
        **arrays,
    }
