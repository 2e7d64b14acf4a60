import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irnn_jax import data, tasks
from irnn_jax.tasks.mnist import PixelMNIST

KEY = jax.random.PRNGKey(0)

pytestmark = pytest.mark.network  # reads the real datasets (fetched on first use)


@pytest.fixture(scope="module")
def arrays():
    return data.load("mnist")


def test_sequential_mnist_feeds_one_pixel_per_step_in_scanline_order(arrays):
    inputs, labels = next(PixelMNIST().batches("test", 5))
    assert inputs.shape == (5, 784, 1) and inputs.dtype == np.float32
    np.testing.assert_allclose(inputs[..., 0], arrays["test_images"][:5] / 255.0, rtol=1e-6)
    assert list(labels) == [7, 2, 1, 0, 4] and labels.dtype == np.int32


def test_permuted_mnist_uses_one_fixed_permutation_per_seed(arrays):
    first, second, other = PixelMNIST(True, 3), PixelMNIST(True, 3), PixelMNIST(True, 4)
    np.testing.assert_array_equal(first.pixel_order, second.pixel_order)
    assert sorted(first.pixel_order) == list(range(784))
    assert not np.array_equal(first.pixel_order, other.pixel_order)
    inputs, _ = next(first.batches("valid", 2))
    np.testing.assert_allclose(
        inputs[..., 0], arrays["valid_images"][:2, first.pixel_order] / 255.0, rtol=1e-6
    )
    np.testing.assert_array_equal(first.artifacts()["pixel_order"], first.pixel_order)


def test_training_batches_are_a_pure_function_of_key_and_step():
    task = PixelMNIST()
    stream = task.batches("train", 1000, KEY)
    batches = [next(stream) for _ in range(53)]  # 50 batches per epoch: crosses into epoch 2
    resumed = next(task.batches("train", 1000, KEY, start_step=52))
    np.testing.assert_array_equal(resumed[0], batches[52][0])
    np.testing.assert_array_equal(resumed[1], batches[52][1])
    first_epoch = np.concatenate([labels for _, labels in batches[:50]])
    assert np.array_equal(np.bincount(first_epoch), np.bincount(data.load("mnist")["train_labels"]))
    assert not np.array_equal(batches[50][1], batches[0][1]), "each epoch is reshuffled"


def test_held_out_passes_cover_each_split_once_in_order(arrays):
    for split in ("valid", "test"):
        labels = np.concatenate([labels for _, labels in PixelMNIST().batches(split, 3000)])
        np.testing.assert_array_equal(labels, arrays[f"{split}_labels"])


def test_accuracy_and_cross_entropy_of_logits():
    task = PixelMNIST()
    labels = jnp.array([1, 2, 3, 4])
    logits = jax.nn.one_hot(jnp.array([1, 2, 3, 0]), 10) * 20.0
    metrics = task.metrics(logits, labels)
    assert float(metrics["accuracy"]) == 0.75
    assert float(task.loss(jnp.zeros((4, 10)), labels)) == pytest.approx(np.log(10), rel=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: next(PixelMNIST().batches("training", 4)),
            ValueError,
            "unknown split 'training'; allowed: train, valid, test",
        ),
        (
            lambda: next(PixelMNIST().batches("train", 60_000, KEY)),
            ValueError,
            "batch_size must be at most 50000",
        ),
        (lambda: next(PixelMNIST().batches("train", 8)), ValueError, "the train split needs a PRNG key"),
        (lambda: PixelMNIST(permuted="yes"), TypeError, "permuted must be True or False, got permuted='yes'"),
        (lambda: tasks.from_config({"name": "mnist", "permuted": False}), KeyError, "permutation_seed"),
    ],
)
def test_bad_mnist_settings_are_refused_naming_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_standard_normalization_uses_the_training_mean_and_std(arrays):
    inputs, _ = next(PixelMNIST(normalization="standard").batches("test", 3))
    np.testing.assert_allclose(
        inputs[..., 0], (arrays["test_images"][:3] / 255.0 - 0.1307) / 0.3081, rtol=1e-5
    )
    with pytest.raises(ValueError, match="unknown normalization 'zscore'; allowed: unit, standard"):
        PixelMNIST(normalization="zscore")
