import jax
import pytest

from irnn_jax import models
from irnn_jax.config import default_model, paper_optim
from irnn_jax.core.errors import ConfigError
from irnn_jax.training import memory, optim, train


def estimate(cell, hidden_size=32, batch_size=4, seq_len=50):
    model = models.from_config(default_model(cell, hidden_size), 10)
    tx = optim.make_optimizer({**paper_optim(0.1, 1.0), "name": "adam"})
    xs = jax.numpy.ones((batch_size, seq_len, 3))
    key = jax.random.PRNGKey(0)
    needed = memory.training_bytes(
        lambda: train.create_train_state(model, tx, key, xs),
        lambda params: model.apply({"params": params}, xs).sum(),
    )
    return needed, train.create_train_state(model, tx, key, xs)


@pytest.mark.parametrize("cell", ["irnn", "lstm", "gru"])
def test_the_state_estimate_is_the_bytes_of_the_real_state(cell):
    needed, state = estimate(cell)
    assert needed["state"] == memory.nbytes(state)
    assert needed["gradients"] == memory.nbytes(state.params)


def test_the_activation_estimate_counts_every_stored_hidden_state():
    batch_size, seq_len, hidden_size = 4, 50, 32
    needed, _ = estimate("irnn", hidden_size, batch_size, seq_len)
    stored_states = batch_size * seq_len * hidden_size * 4
    assert stored_states <= needed["activations"] <= 3 * stored_states
    longer, _ = estimate("irnn", hidden_size, batch_size, 2 * seq_len)
    assert longer["activations"] - needed["activations"] >= stored_states


def test_a_run_over_the_device_limit_is_refused_naming_sizes_and_limit(monkeypatch):
    monkeypatch.setattr(memory, "device_limit", lambda: (10_000, "a small device"))
    needed = {"state": 4_000, "gradients": 2_000, "activations": 3_000}
    memory.check_fits(needed, "model.hidden_size=7")
    with pytest.raises(
        ConfigError,
        match=r"model.hidden_size=7: training needs at least 18.0 KB for 2 runs .*"
        r"more than the 10.0 KB of a small device",
    ):
        memory.check_fits(needed, "model.hidden_size=7", runs=2)


def test_the_device_limit_is_positive():
    limit, where = memory.device_limit()
    assert limit > 2**30 and where
