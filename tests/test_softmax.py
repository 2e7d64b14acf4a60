"""The blocked softmax cross-entropy equals PyTorch's cross-entropy and its gradients, whatever
the blocks; a language model's 'blocked' readout holds what its 'sequence' readout applies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from irnn_jax import models
from irnn_jax.core import softmax

ROWS, FEATURES, VOCAB = 37, 6, 50


def problem(seed=0, padded=5):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((ROWS, FEATURES)).astype(np.float32)
    kernel = (20 * rng.standard_normal((FEATURES, VOCAB))).astype(np.float32)  # logits past exp overflow
    bias = rng.standard_normal(VOCAB).astype(np.float32)
    targets = rng.integers(0, VOCAB, ROWS)
    targets[:padded] = -1
    return features, kernel, bias, targets


def torch_sum_and_gradients(features, kernel, bias, targets):
    tensors = [torch.tensor(array, requires_grad=True) for array in (features, kernel, bias)]
    logits = tensors[0] @ tensors[1] + tensors[2]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(targets), ignore_index=-1, reduction="sum")
    loss.backward()
    return loss.item(), [tensor.grad.numpy() for tensor in tensors]


@pytest.mark.parametrize("block_logits", [VOCAB, 7 * VOCAB, 2**21])  # 37 blocks, 6 (padded), 1
def test_the_summed_cross_entropy_and_its_gradients_equal_pytorchs_in_any_blocks(monkeypatch, block_logits):
    monkeypatch.setattr(softmax, "BLOCK_LOGITS", block_logits)
    features, kernel, bias, targets = problem()

    def total(features, kernel, bias):
        return softmax.cross_entropy(
            softmax.Readout(features, kernel, bias), jnp.asarray(targets)
        ).cross_entropy

    value, gradients = jax.jit(jax.value_and_grad(total, argnums=(0, 1, 2)))(features, kernel, bias)
    expected_value, expected_gradients = torch_sum_and_gradients(features, kernel, bias, targets)
    np.testing.assert_allclose(value, expected_value, rtol=1e-5)
    for gradient, expected in zip(gradients, expected_gradients, strict=True):
        np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-5)
    assert float(total(features, kernel, bias)) == pytest.approx(float(value), rel=1e-6)  # not differentiated


def test_the_gradients_scale_with_the_losss_cotangent_and_padding_counts_nowhere():
    features, kernel, bias, targets = problem()
    readout = softmax.Readout(features, kernel, bias)

    def mean(features, targets):
        scores = softmax.cross_entropy(readout._replace(features=features), targets)
        return 3.0 * scores.cross_entropy / scores.count

    gradient = jax.grad(mean)(features, jnp.asarray(targets))
    _, expected = torch_sum_and_gradients(features, kernel, bias, targets)
    np.testing.assert_allclose(gradient, 3.0 * expected[0] / (ROWS - 5), rtol=1e-4, atol=1e-6)
    assert not np.any(gradient[:5])  # padded rows get no gradient
    scores = softmax.cross_entropy(readout, jnp.asarray(targets))
    real = targets >= 0
    logits = features @ kernel + bias
    assert scores.count == real.sum()
    assert scores.predicted == np.sum(logits.argmax(-1)[real] == targets[real])


def test_a_blocked_language_models_readout_holds_the_logits_of_its_sequence_readout():
    spec = {
        "cell": "lstm",
        "hidden_size": 8,
        "embed_size": 4,
        "readout": "sequence",
        "recurrent_init": {"name": "orthogonal"},
        "input_init": {"name": "glorot_uniform"},
        "output_init": {"name": "glorot_uniform"},
        "bias_init": {"name": "zeros"},
        "embed_init": {"name": "gaussian", "std": 0.1},
    }
    sequence = models.from_config(spec, 30, 30)
    blocked = models.from_config({**spec, "readout": "blocked"}, 30, 30)
    tokens = jnp.asarray(np.random.default_rng(0).integers(0, 30, (3, 5)))
    params = sequence.init(jax.random.PRNGKey(0), tokens)
    assert jax.tree.structure(blocked.init(jax.random.PRNGKey(0), tokens)) == jax.tree.structure(params)
    readout = blocked.apply(params, tokens)
    assert isinstance(readout, softmax.Readout) and readout.features.shape == (3, 5, 8)
    np.testing.assert_allclose(readout.logits(), sequence.apply(params, tokens), rtol=1e-6, atol=1e-7)


def test_a_blocked_readout_for_a_task_without_token_inputs_is_refused():
    spec = {"cell": "irnn", "hidden_size": 8, "readout": "blocked", "recurrent_init": {"name": "identity"}}
    spec |= {
        "input_init": {"name": "gaussian", "std": 0.001},
        "output_init": {"name": "gaussian", "std": 0.001},
        "bias_init": {"name": "zeros"},
        "embed_init": {"name": "gaussian", "std": 0.1},
    }
    with pytest.raises(ValueError, match="readout='blocked' is for language models"):
        models.from_config(spec, 10)
