import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from irnn_jax import initializers, models, recurrence

XS = jax.random.normal(jax.random.PRNGKey(0), (3, 7, 2))


def test_rnn_layer_parameters_are_the_recurrence_pytree_and_its_output_is_rnn():
    layer = models.RNNLayer(5, activation="tanh", recurrent_init=initializers.orthogonal())
    variables = layer.init(jax.random.PRNGKey(1), XS)
    params = variables["params"]
    assert {name: value.shape for name, value in params.items()} == {
        "w_ih": (2, 5),
        "w_hh": (5, 5),
        "b": (5,),
    }
    np.testing.assert_array_equal(layer.apply(variables, XS), recurrence.rnn(params, XS, activation="tanh"))


def test_rnn_layer_defaults_to_the_irnn_initialisation():
    params = models.RNNLayer(4).init(jax.random.PRNGKey(1), XS)["params"]
    np.testing.assert_array_equal(params["w_hh"], np.eye(4))
    np.testing.assert_array_equal(params["b"], np.zeros(4))


def test_rnn_model_reads_out_the_last_hidden_state():
    model = models.RNNModel(hidden_size=6, output_size=3, output_init=initializers.gaussian(1.0))
    variables = model.init(jax.random.PRNGKey(2), XS)
    params = variables["params"]
    hs = recurrence.rnn(params["rnn"], XS)
    expected = hs[:, -1] @ params["readout"]["kernel"] + params["readout"]["bias"]
    outputs = model.apply(variables, XS)
    assert outputs.shape == (3, 3)
    np.testing.assert_allclose(outputs, expected, rtol=1e-6)


def model_config(**changes):
    config = ml_collections.ConfigDict(
        {
            "hidden_size": 4,
            "activation": "relu",
            "unroll": 1,
            "recurrent_init": {"name": "scaled_identity", "scale": 0.01},
            "input_init": {"name": "gaussian", "std": 1e-3},
            "bias_init": {"name": "zeros"},
            "output_init": {"name": "glorot_uniform"},
        }
    )
    config.update(changes)
    return config


def test_from_config_resolves_initialisers_by_name():
    model = models.from_config(model_config(), output_size=2)
    params = model.init(jax.random.PRNGKey(0), XS)["params"]
    np.testing.assert_allclose(params["rnn"]["w_hh"], 0.01 * np.eye(4))
    assert params["readout"]["kernel"].shape == (4, 2)


def test_from_config_with_an_unknown_initialiser_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown initializer 'eye'; known initializers: .*identity"):
        models.from_config(model_config(recurrent_init={"name": "eye"}), output_size=1)


@pytest.mark.parametrize("hidden_size", [0, -3])
def test_a_non_positive_hidden_size_is_refused(hidden_size):
    with pytest.raises(
        ValueError, match=f"hidden_size must be a positive int, got hidden_size={hidden_size}"
    ):
        models.RNNLayer(hidden_size).init(jax.random.PRNGKey(0), XS)


def test_rnn_layer_refuses_inputs_that_are_not_batch_time_features():
    with pytest.raises(ValueError, match=r"xs must be 3-D \(batch, time, features\), got shape \(7, 2\)"):
        models.RNNLayer(3).init(jax.random.PRNGKey(0), jnp.ones((7, 2)))
