import collections
import math

import numpy as np
import pytest

from irnn_jax import data
from irnn_jax.tasks import language_model

pytestmark = pytest.mark.network  # reads the real datasets (fetched on first use)


@pytest.fixture(scope="module")
def words():
    return language_model.PennTreebank("word", seq_len=35)


def test_train_windows_are_contiguous_columns_predicting_the_next_token(words):
    stream = words.tokens("train")
    columns = len(stream) // 20
    batches = words.batches("train", 20)
    first, second = next(batches), next(batches)
    np.testing.assert_array_equal(first[0][3], stream[3 * columns : 3 * columns + 35])
    np.testing.assert_array_equal(first[1][:, :-1], first[0][:, 1:])
    np.testing.assert_array_equal(second[0][:, 0], first[1][:, -1])  # the next window goes on


def test_train_windows_cycle_and_resume_at_any_step(words):
    per_epoch = (len(words.tokens("train")) // 20 - 1) // 35
    resumed = next(words.batches("train", 20, start_step=per_epoch + 2))
    third = next(words.batches("train", 20, start_step=2))
    np.testing.assert_array_equal(resumed[0], third[0])


def test_a_held_out_pass_predicts_every_kept_token_once(words):
    batches = list(words.batches("valid", 10))
    columns = len(words.tokens("valid")) // 10
    assert sum(targets.size for _, targets in batches) == 10 * (columns - 1)
    assert batches[-1][0].shape[1] <= 35
    joined = np.concatenate([inputs for inputs, _ in batches], axis=1)
    np.testing.assert_array_equal(joined.reshape(-1)[: columns - 1], words.tokens("valid")[: columns - 1])


def test_perplexity_and_bits_per_char_come_from_the_mean_cross_entropy(words):
    assert words.complete_metrics({"cross_entropy": math.log(100.0)})["perplexity"] == pytest.approx(100.0)
    chars = language_model.PennTreebank("char", seq_len=100)
    assert chars.complete_metrics({"cross_entropy": math.log(4.0)})["bits_per_char"] == pytest.approx(2.0)
    assert chars.vocab_size == 50 and words.vocab_size == 10_000


def test_the_unigram_baseline_is_the_add_one_unigram_perplexity_of_the_texts(words):
    arrays = data.load("ptb")
    texts = {split: "".join(arrays["char_vocab"][arrays[f"char_{split}"]]) for split in ("train", "test")}

    def tokens(text):
        return [word for line in text.splitlines() for word in [*line.split(), "<eos>"]]

    counts = collections.Counter(tokens(texts["train"]))
    total = sum(counts.values()) + words.vocab_size  # add-one over the 10,000-word vocabulary
    test = tokens(texts["test"])
    perplexity = math.exp(-sum(math.log((counts[word] + 1) / total) for word in test) / len(test))
    assert words.baseline == pytest.approx(perplexity, rel=1e-6)


def test_sizes_the_stream_cannot_produce_are_refused(words):
    with pytest.raises(ValueError, match="fewer than 2 PTB valid tokens per column"):
        next(words.batches("valid", 80_000))
    with pytest.raises(ValueError, match="seq_len 100000 is longer than a PTB train column"):
        next(language_model.PennTreebank("word", seq_len=100_000).batches("train", 20))
    with pytest.raises(ValueError, match=r"unknown level 'byte'; allowed: word, char"):
        language_model.PennTreebank("byte")


def test_carrying_state_across_windows_is_the_default_and_can_be_turned_off():
    assert language_model.PennTreebank().carries_state
    assert not language_model.PennTreebank(carry_state=False).carries_state
    with pytest.raises(TypeError, match="carry_state must be True or False, got carry_state='yes'"):
        language_model.PennTreebank(carry_state="yes")


def torch_cross_entropy_and_gradient(logits, targets):
    import torch

    scores = torch.tensor(np.asarray(logits), requires_grad=True)
    loss = torch.nn.functional.cross_entropy(
        scores.reshape(-1, scores.shape[-1]), torch.tensor(targets).reshape(-1)
    )
    loss.backward()
    return loss.item(), scores.grad.numpy()


def test_the_loss_its_gradient_and_the_metrics_match_pytorchs_cross_entropy_and_an_argmax(words):
    import jax

    rng = np.random.default_rng(0)
    logits = (30 * rng.standard_normal((4, 7, 50))).astype(np.float32)  # large: the shift matters
    targets = rng.integers(0, 50, (4, 7))
    targets[0, :3] = logits[0, :3].argmax(-1)  # some tokens predicted
    loss, gradient = jax.value_and_grad(words.loss)(logits, targets)
    expected_loss, expected_gradient = torch_cross_entropy_and_gradient(logits, targets)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-6)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-5, atol=1e-8)
    metrics = words.metrics(logits, targets)
    np.testing.assert_allclose(metrics["cross_entropy"], expected_loss, rtol=1e-6)
    assert metrics["accuracy"] == pytest.approx(np.mean(logits.argmax(-1) == targets))
    assert metrics["accuracy"] >= 3 / 28 and metrics["count"] == 28
