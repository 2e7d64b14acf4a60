import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irnn_jax import models
from irnn_jax.core import initializers
from irnn_jax.models import diagnostics


def mse(outputs, targets):
    return jnp.mean((outputs - targets) ** 2)


def setup(readout="last", **changes):
    model = models.RNNModel(
        hidden_size=5,
        output_size=2,
        readout=readout,
        recurrent_init=initializers.orthogonal(0.9),
        input_init=initializers.gaussian(0.5),
        bias_init=initializers.gaussian(0.5),
        output_init=initializers.gaussian(0.5),
        **changes,
    )
    xs = jax.random.normal(jax.random.PRNGKey(0), (3, 7, 2))
    params = model.init(jax.random.PRNGKey(1), xs)["params"]
    return model, params, xs


@pytest.mark.parametrize("readout", ["last", "sequence"])
def test_the_probed_forward_with_zero_probes_is_the_model(readout):
    model, params, xs = setup(readout, projection_size=3)
    outputs, _ = diagnostics.probed_forward(model, params, xs, jnp.zeros((3, 7, 5)))
    np.testing.assert_allclose(outputs, model.apply({"params": params}, xs), rtol=1e-5, atol=1e-6)


def test_state_gradient_norms_equal_the_gradient_of_the_rest_of_the_sequence_from_each_state():
    model, params, xs = setup()
    targets = jnp.ones((3, 2))
    norms = diagnostics.state_gradient_norms(model, params, xs, targets, mse)
    for t in range(1, 8):  # split after t steps: dL/dh_t through the model's own (fused) recurrence
        _, (h_t,) = model.apply({"params": params}, xs[:, :t], return_state=True)
        if t == 7:
            rest = lambda h: mse(h @ params["readout"]["kernel"] + params["readout"]["bias"], targets)  # noqa: E731
        else:
            rest = lambda h, t=t: mse(model.apply({"params": params}, xs[:, t:], initial_state=(h,)), targets)  # noqa: E731
        np.testing.assert_allclose(norms[t - 1], jnp.linalg.norm(jax.grad(rest)(h_t)), rtol=1e-4)


def test_an_identity_relu_network_with_active_units_passes_gradients_back_unchanged():
    model = models.RNNModel(hidden_size=4, output_size=1, bias_init=initializers.gaussian(1.0))
    xs = jnp.zeros((2, 30, 1))
    params = model.init(jax.random.PRNGKey(3), xs)["params"]
    params["rnn"]["layer_0"]["b"] = jnp.ones(4)  # every unit active, w_hh = I: no vanishing
    norms = diagnostics.state_gradient_norms(model, params, xs, jnp.zeros((2, 1)), mse)
    np.testing.assert_allclose(norms, norms[-1], rtol=1e-5)


def test_snapshot_reports_the_spectrum_and_the_active_fraction():
    model, params, xs = setup()
    record = diagnostics.snapshot(model, params, xs, jnp.ones((3, 2)), mse)
    eigenvalues = np.linalg.eigvals(np.asarray(params["rnn"]["layer_0"]["w_hh"], np.float64))
    assert record["spectral_radius"] == pytest.approx(np.abs(eigenvalues).max())
    assert record["spectral_radius"] == pytest.approx(0.9, rel=1e-5)  # orthogonal(0.9)
    assert 0.0 < record["active_fraction"] < 1.0
    assert len(record["state_grad_norms"]) == 7


def test_unsupported_models_are_refused_by_name():
    model, params, xs = setup(cell="lstm")
    with pytest.raises(ValueError, match="single-layer unidirectional irnn/rnn_relu/rnn_tanh model"):
        diagnostics.probed_forward(model, params, xs, jnp.zeros((3, 7, 5)))


def test_fit_writes_diagnostics_at_the_chosen_steps(tmp_path):
    import json

    from irnn_jax.training import train

    from .helpers import adding_config

    config = adding_config(seq_len=6, steps=20, log_every=10, eval_every=20)
    config.train.diagnostics_every = 10
    train.fit(config, tmp_path, log=lambda line: None)
    records = [json.loads(line) for line in (tmp_path / "diagnostics.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [0, 10, 20]
    assert all(len(record["state_grad_norms"]) == 6 for record in records)
    assert records[0]["spectral_radius"] == pytest.approx(1.0)  # w_hh = I at step 0


def test_diagnostics_of_an_unsupported_model_are_refused_before_training(tmp_path):
    from irnn_jax import config as config_lib
    from irnn_jax.training import train

    from .helpers import adding_config

    config = adding_config(seq_len=6, steps=20)
    config.model = config_lib.default_model("lstm", hidden_size=4)
    config.train.diagnostics_every = 10
    with pytest.raises(ValueError, match="state gradient norms need a single-layer"):
        train.fit(config, tmp_path, log=lambda line: None)
    assert not (tmp_path / "metrics.jsonl").exists()
