import importlib.util
import pathlib

import jax
import numpy as np

ANALYSES = pathlib.Path(__file__).resolve().parents[1] / "experiments" / "analyses"


def load_script():
    spec = importlib.util.spec_from_file_location(
        "mnist_weight_averaging", ANALYSES / "mnist_weight_averaging.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SmallTask:
    """Stands in for PixelMNIST: five training and two validation examples, numbered."""

    def batches(self, split, batch_size, key=None):
        assert split == "valid" or key is not None, "training batches need a key"
        images = {"train": np.arange(5), "valid": np.arange(5, 7)}[split]
        yield images.astype(np.float32), images.astype(np.int32)


def test_training_on_all_images_visits_each_training_and_validation_image_once_an_epoch():
    batches = load_script().all_training_images(SmallTask(), 7, jax.random.key(0))

    epochs = [next(batches) for _ in range(3)]

    for images, labels in epochs:
        assert sorted(labels.tolist()) == list(range(7))
        np.testing.assert_array_equal(images, labels.astype(np.float32))
    assert len({tuple(labels.tolist()) for _, labels in epochs}) > 1  # each epoch is reshuffled
