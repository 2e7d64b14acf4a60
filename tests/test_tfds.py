import numpy as np
import pytest
import tensorflow_datasets as tfds

from irnn_jax import data
from irnn_jax.data import tfds_source
from irnn_jax.tasks import mnist


def test_mnist_comes_from_a_tfds_data_source_with_the_wheels_layout():
    with tfds.testing.mock_data(num_examples=12, policy=tfds.testing.MockPolicy.USE_CODE):
        arrays = tfds_source.load_mnist()
    assert {name: array.shape for name, array in arrays.items()} == {
        "train_images": (10, 784),
        "train_labels": (10,),
        "valid_images": (2, 784),
        "valid_labels": (2,),
        "test_images": (12, 784),
        "test_labels": (12,),
    }
    assert all(array.dtype == np.uint8 for array in arrays.values())


def test_the_mnist_task_reads_the_tfds_source_named_in_its_config(tmp_path):
    source = f"tfds:{tmp_path}"
    with tfds.testing.mock_data(
        num_examples=12, policy=tfds.testing.MockPolicy.USE_CODE, data_dir=str(tmp_path)
    ):
        pixels, labels = next(mnist.PixelMNIST(source=source).batches("test", 5))
    assert pixels.shape == (5, 784, 1) and labels.shape == (5,)


def test_an_unprepared_tfds_dataset_is_an_error_naming_the_directory(tmp_path):
    with pytest.raises(
        data.DataError, match=f"TFDS has no prepared 'mnist' train split under data_dir='{tmp_path}'"
    ):
        tfds_source.load_mnist(str(tmp_path))
