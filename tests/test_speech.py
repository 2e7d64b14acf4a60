import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irnn_jax.tasks import speech

pytestmark = pytest.mark.network  # reads the real datasets (fetched on first use)


@pytest.fixture(scope="module", params=speech.DATASETS)
def task(request):
    return speech.SpeechFrames(request.param)


def test_splits_are_stratified_and_fixed_by_the_seed(task):
    sizes = task.split_sizes()
    if task.dataset == "fsdd":
        assert sizes == {"train": 2400, "valid": 300, "test": 300}
        for split in speech.SPLITS:
            labels = task._split_arrays(split)[1][:, 0]
            counts = np.bincount(labels)
            assert len(set(counts)) == 1  # the same number of every digit
    else:
        assert sizes == {"train": 243, "valid": 27, "test": 370}
    again = speech.SpeechFrames(task.dataset)
    np.testing.assert_array_equal(again._arrays["split"], task._arrays["split"])
    other = speech.SpeechFrames(task.dataset, split_seed=1)
    assert not np.array_equal(other._arrays["split"], task._arrays["split"])


def test_every_real_frame_has_its_utterances_label_and_padding_is_masked(task):
    inputs, labels = next(task.batches("valid", 64))
    lengths = inputs["lengths"]
    steps = np.arange(labels.shape[1])[None, :]
    real = steps < lengths[:, None]
    np.testing.assert_array_equal(labels >= 0, real)
    np.testing.assert_array_equal(inputs["xs"][~real], 0.0)
    assert all(len(set(row[row >= 0])) == 1 for row in labels)


def test_padded_frames_never_count_in_the_loss_or_the_metrics(task):
    inputs, labels = next(task.batches("test", 8))
    logits = jax.random.normal(jax.random.PRNGKey(0), (*labels.shape, task.output_size))
    scrambled = jnp.where((labels < 0)[..., None], 1e3 * jnp.ones_like(logits), logits)
    assert task.loss(logits, labels) == pytest.approx(float(task.loss(scrambled, labels)))
    metrics = task.metrics(logits, labels)
    np.testing.assert_allclose(
        metrics["frame_error_rate"], task.metrics(scrambled, labels)["frame_error_rate"]
    )
    assert int(metrics["count"]) == int(inputs["lengths"].sum())
    real = labels >= 0
    expected = np.mean(np.asarray(jnp.argmax(logits, -1))[real] != labels[real])
    np.testing.assert_allclose(metrics["frame_error_rate"], expected, rtol=1e-6)


def test_features_are_standardised_with_training_statistics(task):
    features, labels, _ = task._split_arrays("train")
    real = features[labels >= 0]
    np.testing.assert_allclose(real.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(real.std(0), 1.0, atol=1e-4)


def test_train_batches_are_a_function_of_the_key_and_step(task):
    key = jax.random.PRNGKey(3)
    stream = task.batches("train", 16, key)
    batches = [next(stream) for _ in range(20)]
    resumed = next(task.batches("train", 16, key, start_step=17))
    np.testing.assert_array_equal(resumed[1], batches[17][1])
    np.testing.assert_array_equal(resumed[0]["xs"], batches[17][0]["xs"])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("dataset", "timit", "unknown dataset .timit.; allowed: fsdd, japanese_vowels"),
        ("valid_fraction", 0.7, r"valid_fraction must be a number in \(0, 0.5\), got valid_fraction=0.7"),
        ("split_seed", 1.5, "split_seed must be an int"),
    ],
)
def test_bad_settings_are_refused_by_name(field, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        speech.SpeechFrames(**{field: value})
