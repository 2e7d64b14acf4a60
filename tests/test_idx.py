import gzip

import numpy as np
import pytest

from irnn_jax import data
from irnn_jax.data import idx
from irnn_jax.tasks.mnist import PixelMNIST


def write_idx(path, array, compress=False):
    magic = 0x00000803 if array.ndim == 3 else 0x00000801
    header = magic.to_bytes(4, "big") + b"".join(size.to_bytes(4, "big") for size in array.shape)
    content = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(content) if compress else content)


@pytest.fixture(scope="module")
def idx_directory(tmp_path_factory):
    """The wheel's MNIST written back as the original four IDX files (two of them gzipped)."""
    arrays = data.load("mnist")
    directory = tmp_path_factory.mktemp("mnist_idx")
    train_images = np.concatenate([arrays["train_images"], arrays["valid_images"]]).reshape(-1, 28, 28)
    train_labels = np.concatenate([arrays["train_labels"], arrays["valid_labels"]])
    write_idx(directory / "train-images-idx3-ubyte.gz", train_images, compress=True)
    write_idx(directory / "train-labels-idx1-ubyte", train_labels)
    write_idx(directory / "t10k-images-idx3-ubyte", arrays["test_images"].reshape(-1, 28, 28))
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", arrays["test_labels"], compress=True)
    return directory


@pytest.mark.network
def test_a_directory_of_idx_files_gives_the_same_arrays_as_the_wheel(idx_directory):
    from_wheel = data.load("mnist")
    from_directory = idx.load_mnist_directory(idx_directory)
    assert set(from_directory) == set(from_wheel)
    for name, array in from_wheel.items():
        np.testing.assert_array_equal(from_directory[name], array)


@pytest.mark.network
def test_the_mnist_task_reads_a_user_directory_when_its_source_names_one(idx_directory):
    from_directory = next(PixelMNIST(source=str(idx_directory)).batches("valid", 7))
    from_wheel = next(PixelMNIST().batches("valid", 7))
    np.testing.assert_array_equal(from_directory[0], from_wheel[0])
    np.testing.assert_array_equal(from_directory[1], from_wheel[1])


def test_a_directory_missing_a_file_is_refused_naming_it(tmp_path):
    with pytest.raises(
        data.DataError, match=r"has no train-images-idx3-ubyte \(or train-images-idx3-ubyte.gz\)"
    ):
        idx.load_mnist_directory(tmp_path)


def test_a_file_with_the_wrong_magic_or_length_is_refused(tmp_path):
    labels = tmp_path / "labels"
    write_idx(labels, np.zeros(5, np.uint8))
    with pytest.raises(data.DataError, match="is not a 3-D uint8 IDX file"):
        idx.read_idx(labels, 3)
    labels.write_bytes(labels.read_bytes()[:-1])
    with pytest.raises(data.DataError, match=r"holds 12 bytes, its header \(5,\) needs 13"):
        idx.read_idx(labels, 1)


def test_too_few_training_images_are_refused(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((10, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(10, np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(data.DataError, match="expected more than 50000 training images"):
        idx.load_mnist_directory(tmp_path)


@pytest.mark.network
def test_a_directory_with_a_keras_layout_mnist_npz_gives_the_same_arrays_as_the_wheel(tmp_path):
    arrays = data.load("mnist")
    np.savez(
        tmp_path / "mnist.npz",
        x_train=np.concatenate([arrays["train_images"], arrays["valid_images"]]).reshape(-1, 28, 28),
        y_train=np.concatenate([arrays["train_labels"], arrays["valid_labels"]]).astype(np.int64),
        x_test=arrays["test_images"].reshape(-1, 28, 28),
        y_test=arrays["test_labels"],
    )
    from_directory = idx.load_mnist_directory(tmp_path)
    for name, array in arrays.items():
        np.testing.assert_array_equal(from_directory[name], array)


def test_an_npz_without_the_expected_arrays_is_refused_by_name(tmp_path):
    np.savez(tmp_path / "mnist.npz", images=np.zeros((2, 784)))
    with pytest.raises(data.DataError, match=r"mnist\.npz lacks the array\(s\) x_train, y_train"):
        idx.load_mnist_directory(tmp_path)
