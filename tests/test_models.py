import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from irnn_jax import models
from irnn_jax.core import initializers, recurrence

from . import torch_reference

XS = jax.random.normal(jax.random.PRNGKey(0), (3, 7, 2))


def test_rnn_layer_parameters_are_the_recurrence_pytree_and_its_output_is_the_recurrence():
    layer = models.RecurrentLayer(5, cell="rnn_tanh", recurrent_init=initializers.orthogonal())
    variables = layer.init(jax.random.PRNGKey(1), XS)
    params = variables["params"]
    assert {name: value.shape for name, value in params.items()} == {
        "w_ih": (2, 5),
        "w_hh": (5, 5),
        "b": (5,),
    }
    state, expected = np.zeros((XS.shape[0], 5)), []  # the recurrence step by step in float64
    for t in range(XS.shape[1]):
        state = np.tanh(
            np.asarray(XS[:, t], np.float64) @ params["w_ih"] + state @ params["w_hh"] + params["b"]
        )
        expected.append(state)
    np.testing.assert_allclose(layer.apply(variables, XS), np.stack(expected, axis=1), rtol=1e-5, atol=1e-6)


def test_rnn_layer_defaults_to_the_irnn_initialisation():
    params = models.RecurrentLayer(4).init(jax.random.PRNGKey(1), XS)["params"]
    np.testing.assert_array_equal(params["w_hh"], np.eye(4))
    np.testing.assert_array_equal(params["b"], np.zeros(4))


def test_rnn_model_reads_out_the_last_hidden_state():
    model = models.RNNModel(hidden_size=6, output_size=3, output_init=initializers.gaussian(1.0))
    variables = model.init(jax.random.PRNGKey(2), XS)
    params = variables["params"]
    hs = recurrence.rnn(params["rnn"]["layer_0"], XS)
    expected = hs[:, -1] @ params["readout"]["kernel"] + params["readout"]["bias"]
    outputs = model.apply(variables, XS)
    assert outputs.shape == (3, 3)
    np.testing.assert_allclose(outputs, expected, rtol=1e-6)


def model_config(**changes):
    return {
        **{
            "hidden_size": 4,
            "cell": "irnn",
            "layers": 1,
            "bidirectional": False,
            "projection_size": 0,
            "readout": "last",
            "forget_bias": 1.0,
            "unroll": 1,
            "recurrent_init": {"name": "scaled_identity", "scale": 0.01},
            "input_init": {"name": "gaussian", "std": 1e-3},
            "bias_init": {"name": "zeros"},
            "output_init": {"name": "glorot_uniform"},
            "embed_size": 0,
            "embed_init": {"name": "gaussian", "std": 0.1},
            "dtype": "float32",
            "param_dtype": "float32",
        },
        **changes,
    }


def test_from_config_resolves_initialisers_by_name():
    model = models.from_config(model_config(), output_size=2)
    params = model.init(jax.random.PRNGKey(0), XS)["params"]
    np.testing.assert_allclose(params["rnn"]["layer_0"]["w_hh"], 0.01 * np.eye(4))
    assert params["readout"]["kernel"].shape == (4, 2)


def test_from_config_with_an_unknown_initialiser_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown initializer 'eye'; known initializers: .*identity"):
        models.from_config(model_config(recurrent_init={"name": "eye"}), output_size=1)


@pytest.mark.parametrize("hidden_size", [0, -3])
def test_a_non_positive_hidden_size_is_refused(hidden_size):
    with pytest.raises(
        ValueError, match=f"hidden_size must be a positive int, got hidden_size={hidden_size}"
    ):
        models.RecurrentLayer(hidden_size).init(jax.random.PRNGKey(0), XS)


def test_rnn_layer_refuses_inputs_that_are_not_batch_time_features():
    with pytest.raises(ValueError, match=r"xs must be 3-D \(batch, time, features\), got shape \(7, 2\)"):
        models.RecurrentLayer(3).init(jax.random.PRNGKey(0), jnp.ones((7, 2)))


@pytest.mark.parametrize(("cell", "extra"), [("lstm", {}), ("gru", {"b_hn": (5,)})])
def test_gated_layers_hold_one_block_per_gate_and_run_the_recurrence(cell, extra):
    gates = {"lstm": 4, "gru": 3}[cell]
    layer = models.RecurrentLayer(5, cell=cell, recurrent_init=initializers.identity(), forget_bias=4.0)
    variables = layer.init(jax.random.PRNGKey(1), XS)
    params = variables["params"]
    shapes = {name: value.shape for name, value in params.items()}
    assert shapes == {"w_ih": (2, 5 * gates), "w_hh": (5, 5 * gates), "b": (5 * gates,), **extra}
    np.testing.assert_array_equal(params["w_hh"], np.tile(np.eye(5), gates))
    if cell == "lstm":
        np.testing.assert_array_equal(params["b"], np.repeat([0.0, 4.0, 0.0, 0.0], 5))
    module = torch_reference.make_module(cell, 2, 5)  # the same layer's outputs from PyTorch
    torch_params = jax.tree.map(jnp.asarray, torch_reference.params_from_torch(module))
    expected, _ = module(torch.from_numpy(np.array(XS)))
    np.testing.assert_allclose(
        layer.apply({"params": torch_params}, XS), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_a_reverse_layer_reads_the_sequence_backwards_and_returns_outputs_in_input_order():
    forward = models.RecurrentLayer(4, cell="gru")
    variables = forward.init(jax.random.PRNGKey(3), XS)
    backward = models.RecurrentLayer(4, cell="gru", reverse=True)
    np.testing.assert_allclose(
        backward.apply(variables, XS), jnp.flip(forward.apply(variables, jnp.flip(XS, 1)), 1), rtol=1e-6
    )


def test_stacked_bidirectional_model_feeds_both_directions_to_the_next_layer():
    model = models.RNNModel(4, output_size=3, cell="lstm", layers=3, bidirectional=True, projection_size=6)
    params = model.init(jax.random.PRNGKey(0), XS)["params"]
    layer_names = sorted(params["rnn"])
    assert layer_names == [
        "layer_0",
        "layer_0_reverse",
        "layer_1",
        "layer_1_reverse",
        "layer_2",
        "layer_2_reverse",
    ]
    assert params["rnn"]["layer_1"]["w_ih"].shape == (8, 16)
    assert params["projection"]["kernel"].shape == (8, 6)
    assert model.apply({"params": params}, XS).shape == (3, 3)


def test_sequence_readout_gives_an_output_per_step():
    model = models.RNNModel(4, output_size=10, readout="sequence")
    variables = model.init(jax.random.PRNGKey(0), XS)
    assert model.apply(variables, XS).shape == (3, 7, 10)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {"cell": "transformer"},
            ValueError,
            "unknown model.cell 'transformer'; allowed: irnn, rnn_relu, rnn_tanh, lstm, gru",
        ),
        ({"layers": 0}, ValueError, "model.layers must be a positive int, got model.layers=0"),
        (
            {"forget_bias": "-1"},
            TypeError,
            "model.forget_bias must be a real number, got model.forget_bias='-1'",
        ),
        ({"readout": "mean"}, ValueError, "unknown model.readout 'mean'; allowed: last, sequence"),
        ({"bidirectional": "yes"}, TypeError, "model.bidirectional must be True or False, got 'yes'"),
        ({"projection_size": -4}, ValueError, "model.projection_size must be a positive int"),
    ],
)
def test_from_config_refuses_bad_model_settings_naming_the_value(changes, error, message):
    with pytest.raises(error, match=message):
        models.from_config(model_config(**changes), output_size=1)


def test_identity_recurrent_init_refuses_a_non_square_block():
    with pytest.raises(ValueError, match=r"identity needs a square 2-D shape \(n, n\), got shape=\(3, 5\)"):
        initializers.identity()(jax.random.PRNGKey(0), (3, 5))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, True), (2, False), (2, True)])
def test_stacked_and_bidirectional_stacks_equal_pytorch_forward_and_gradients(cell, layers, bidirectional):
    input_size, hidden_size, batch_size, seq_len = 3, 8, 4, 20
    module = torch_reference.make_module(cell, input_size, hidden_size, layers, bidirectional)
    directions = (False, True) if bidirectional else (False,)
    names = {
        (layer, reverse): f"layer_{layer}" + ("_reverse" if reverse else "")
        for layer in range(layers)
        for reverse in directions
    }
    params = {
        name: jax.tree.map(jnp.asarray, torch_reference.params_from_torch(module, *key))
        for key, name in names.items()
    }
    stack = models.RecurrentStack(hidden_size, cell=cell, layers=layers, bidirectional=bidirectional)
    xs = jax.random.normal(jax.random.PRNGKey(0), (batch_size, seq_len, input_size))
    weights = jax.random.normal(jax.random.PRNGKey(1), (seq_len, hidden_size * len(directions)))

    def loss(params):
        outputs = stack.apply({"params": params}, xs)
        return jnp.sum(outputs * weights), outputs

    (_, outputs), grads = jax.value_and_grad(loss, has_aux=True)(params)
    outputs_torch, _ = module(torch.tensor(np.array(xs)))
    (outputs_torch * torch.from_numpy(np.array(weights))).sum().backward()

    np.testing.assert_allclose(outputs, outputs_torch.detach().numpy(), rtol=1e-4, atol=1e-5)
    for key, name in names.items():
        for param, grad in torch_reference.grads_from_torch(module, *key).items():
            scale = np.abs(grad).max()
            np.testing.assert_allclose(
                grads[name][param], grad, rtol=1e-4, atol=1e-5 * scale, err_msg=f"{name}/{param}"
            )


@pytest.mark.parametrize("cell", ["irnn", "rnn_tanh", "lstm", "gru"])
def test_final_only_stack_returns_each_directions_state_after_reading_the_whole_sequence(cell):
    stack = models.RecurrentStack(
        5, cell=cell, layers=2, bidirectional=True, recurrent_init=initializers.orthogonal()
    )
    variables = stack.init(jax.random.PRNGKey(0), XS)
    sequence = stack.apply(variables, XS)
    final = stack.clone(final_only=True).apply(variables, XS)
    np.testing.assert_allclose(
        final, jnp.concatenate([sequence[:, -1, :5], sequence[:, 0, 5:]], axis=-1), rtol=1e-6
    )


@pytest.mark.parametrize("cell", ["irnn", "lstm", "gru"])
def test_two_windows_with_carried_state_equal_one_long_window(cell):
    model = models.RNNModel(hidden_size=5, output_size=3, cell=cell, layers=2, readout="sequence")
    xs = jax.random.normal(jax.random.PRNGKey(1), (2, 12, 3))
    params = model.init(jax.random.PRNGKey(0), xs)
    whole, whole_state = model.apply(params, xs, return_state=True)
    first, state = model.apply(params, xs[:, :7], return_state=True)
    second, final_state = model.apply(params, xs[:, 7:], initial_state=state, return_state=True)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(final_state, whole_state, rtol=1e-5, atol=1e-6)


def test_a_bidirectional_stack_refuses_to_carry_state():
    model = models.RNNModel(hidden_size=4, output_size=1, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional stack cannot carry state"):
        model.init(jax.random.PRNGKey(0), XS, return_state=True)


def test_reverse_time_with_lengths_reverses_only_the_real_steps():
    xs = np.arange(10.0).reshape(2, 5, 1)
    reversed_xs = models.reverse_time(xs, np.array([3, 5]))
    np.testing.assert_array_equal(reversed_xs[..., 0], [[2, 1, 0, 3, 4], [9, 8, 7, 6, 5]])
    np.testing.assert_array_equal(models.reverse_time(reversed_xs, np.array([3, 5])), xs)


@pytest.mark.parametrize("readout", ["last", "sequence"])
def test_end_padding_with_lengths_changes_no_real_output(readout):
    model = models.RNNModel(
        hidden_size=4,
        output_size=2,
        bidirectional=True,
        layers=2,
        readout=readout,
        recurrent_init=initializers.orthogonal(),
        input_init=initializers.gaussian(0.5),
        bias_init=initializers.gaussian(0.5),
        output_init=initializers.gaussian(0.5),
    )
    short = jax.random.normal(jax.random.PRNGKey(2), (1, 4, 3))
    padded = jnp.concatenate([short, 7.0 * jnp.ones((1, 3, 3))], axis=1)
    params = model.init(jax.random.PRNGKey(0), short)
    expected = model.apply(params, short)
    got = model.apply(params, padded, lengths=jnp.array([4]))
    np.testing.assert_allclose(got[:, :4] if readout == "sequence" else got, expected, rtol=1e-5, atol=1e-6)


def test_token_inputs_are_embedded_and_embed_size_is_required_for_them():
    model = models.from_config(model_config(embed_size=6, readout="sequence"), output_size=11, vocab_size=11)
    tokens = jnp.array([[1, 2, 3], [10, 0, 0]])
    params = model.init(jax.random.PRNGKey(0), tokens)["params"]
    assert params["embed"]["embedding"].shape == (11, 6)
    assert model.apply({"params": params}, tokens).shape == (2, 3, 11)
    with pytest.raises(ValueError, match=r"embed_size .*token ids"):
        models.from_config(model_config(), output_size=11, vocab_size=11)
    with pytest.raises(ValueError, match="embed_size must be 0"):
        models.from_config(model_config(embed_size=6), output_size=1)


@pytest.mark.parametrize("cell", ["irnn", "rnn_tanh", "lstm"])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, False), (2, True)])
def test_the_final_state_readout_equals_reading_the_last_step_of_every_state(cell, layers, bidirectional):
    # Without lengths a 'last' readout runs only final states (rnn_final for ReLU/tanh); with
    # full lengths the model reads the last step of all states: the two agree in value and gradient.
    model = models.RNNModel(
        hidden_size=5,
        output_size=3,
        cell=cell,
        layers=layers,
        bidirectional=bidirectional,
        input_init=initializers.gaussian(0.5),
        output_init=initializers.gaussian(0.5),
    )
    params = model.init(jax.random.PRNGKey(1), XS)["params"]
    full_lengths = jnp.full((XS.shape[0],), XS.shape[1])

    def loss(params, lengths):
        return jnp.sum(jnp.sin(model.apply({"params": params}, XS, lengths)))

    np.testing.assert_allclose(loss(params, None), loss(params, full_lengths), rtol=1e-6)
    chex.assert_trees_all_close(
        jax.grad(loss)(params, None), jax.grad(loss)(params, full_lengths), rtol=1e-5, atol=0
    )


@pytest.mark.parametrize("cell", ["irnn", "rnn_tanh", "lstm", "gru"])
def test_forward_mode_through_the_autodiff_model_agrees_with_reverse_mode_through_the_fused_one(cell):
    xs = jax.random.normal(jax.random.PRNGKey(1), (3, 7, 2))
    fused = models.RNNModel(hidden_size=5, output_size=2, cell=cell, input_init=initializers.glorot_uniform())
    plain = fused.clone(implementation="autodiff")
    params = fused.init(jax.random.PRNGKey(0), xs)
    direction = jax.tree.map(lambda leaf: jax.random.normal(jax.random.PRNGKey(2), leaf.shape), params)
    _, forward = jax.jvp(lambda p: plain.apply(p, xs), (params,), (direction,))
    jacobian = jax.jacrev(lambda p: fused.apply(p, xs))(params)
    reverse = sum(
        jnp.tensordot(jac, leaf, axes=leaf.ndim)
        for jac, leaf in zip(jax.tree.leaves(jacobian), jax.tree.leaves(direction), strict=True)
    )
    np.testing.assert_allclose(forward, reverse, rtol=1e-4, atol=1e-5)
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(lambda p: fused.clone(implementation="fused").apply(p, xs), (params,), (direction,))
