import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from irnn_jax.core import initializers, recurrence, simple

from . import torch_reference


def random_params(key, input_size, hidden_size, recurrent_scale=0.9):
    """Random non-symmetric weights whose ReLU/tanh dynamics stay bounded over long sequences."""
    key_ih, key_hh, key_b = jax.random.split(key, 3)
    return {
        "w_ih": jax.random.normal(key_ih, (input_size, hidden_size)) * 0.5,
        "w_hh": initializers.orthogonal(recurrent_scale)(key_hh, (hidden_size, hidden_size)),
        "b": jax.random.normal(key_b, (hidden_size,)) * 0.1,
    }


def python_loop_rnn(params, xs, h0, activation):
    """The recurrence written step by step in float64 NumPy, as the papers state it."""
    act = (lambda z: np.maximum(z, 0.0)) if activation == "relu" else np.tanh
    w_ih, w_hh, b = (np.asarray(params[name], np.float64) for name in ("w_ih", "w_hh", "b"))
    h = np.asarray(h0, np.float64)
    states = []
    for t in range(xs.shape[1]):
        h = act(np.asarray(xs[:, t], np.float64) @ w_ih + h @ w_hh + b)
        states.append(h)
    return np.stack(states, axis=1)


FLOAT32_EPS = float(np.finfo(np.float32).eps)


def assert_float32_close(actual, desired, *, seq_len, width, growth=1.0):
    """Equal to float32 accuracy, by forward error analysis: ``seq_len`` steps of ``width``-term
    float32 sums, whose step Jacobians have norm at most ``growth``, each add rounding errors of
    about ``eps * width`` of the array's scale that later steps amplify by up to ``growth`` each:
    every entry within ``4 * eps * width * sum_{t < seq_len} growth**t * max|desired|``."""
    desired = np.asarray(desired, np.float64)
    amplification = sum(max(growth, 1.0) ** step for step in range(seq_len))
    bound = 4 * FLOAT32_EPS * width * amplification * np.abs(desired).max(initial=0.0)
    np.testing.assert_allclose(np.asarray(actual, np.float64), desired, rtol=0, atol=bound)


def spectral_norm(matrix):
    return float(np.linalg.norm(np.asarray(matrix, np.float64), 2))


def make_inputs(seed, batch_size, seq_len, input_size, hidden_size):
    key_x, key_h = jax.random.split(jax.random.PRNGKey(seed))
    xs = jax.random.normal(key_x, (batch_size, seq_len, input_size))
    h0 = jax.random.uniform(key_h, (batch_size, hidden_size))
    return xs, h0


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("implementation", ["fused", "autodiff"])
@pytest.mark.parametrize("hoist_input", [True, False])
def test_rnn_equals_a_step_by_step_python_loop(activation, implementation, hoist_input):
    params = random_params(jax.random.PRNGKey(1), 3, 8)
    xs, h0 = make_inputs(2, 4, 30, 3, 8)
    hs = recurrence.rnn(
        params, xs, h0, activation=activation, implementation=implementation, hoist_input=hoist_input
    )
    np.testing.assert_allclose(hs, python_loop_rnn(params, xs, h0, activation), rtol=1e-5, atol=1e-5)


def test_paper_column_form_matrix_is_the_transpose_of_w_hh():
    """With a non-symmetric W, the state follows h_t = relu(W h_{t-1}) for w_hh = W.T."""
    paper_w = np.array([[0.0, 1.0], [0.0, 0.0]], np.float32)  # moves unit 2 into unit 1
    params = {"w_ih": jnp.zeros((1, 2)), "w_hh": jnp.asarray(paper_w.T), "b": jnp.zeros(2)}
    hs = recurrence.rnn(params, jnp.zeros((1, 1, 1)), jnp.array([[0.0, 3.0]]))
    np.testing.assert_array_equal(hs[0, 0], paper_w @ np.array([0.0, 3.0]))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_rnn_equals_flax_linen_rnn_of_simple_cell_with_the_same_weights(activation):
    params = random_params(jax.random.PRNGKey(3), 2, 16)
    xs, h0 = make_inputs(4, 5, 100, 2, 16)
    cell = nn.SimpleCell(16, activation_fn=jax.nn.relu if activation == "relu" else jnp.tanh)
    flax_params = {
        "cell": {"i": {"kernel": params["w_ih"], "bias": params["b"]}, "h": {"kernel": params["w_hh"]}}
    }
    expected = nn.RNN(cell).apply({"params": flax_params}, xs, initial_carry=h0)
    hs = recurrence.rnn(params, xs, h0, activation=activation)
    np.testing.assert_allclose(hs, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("cell", "seq_len"),
    [
        ("rnn_relu", 784),
        ("rnn_tanh", 784),
        ("rnn_relu", 1),
        ("rnn_tanh", 37),
        ("lstm", 200),
        ("gru", 200),
        ("lstm", 1),
    ],
)
def test_forward_and_all_gradients_equal_pytorch(cell, seq_len):
    batch_size, input_size, hidden_size = 4, 3, 32
    module = torch_reference.make_module(cell, input_size, hidden_size)
    params = jax.tree.map(jnp.asarray, torch_reference.params_from_torch(module))
    if cell.startswith("rnn"):  # PyTorch's default init explodes a ReLU RNN over 784 steps
        params["w_hh"] = initializers.orthogonal(0.9)(jax.random.PRNGKey(5), (hidden_size, hidden_size))
        with torch.no_grad():
            module.weight_hh_l0.copy_(torch.from_numpy(np.array(params["w_hh"]).T))
    xs, h0 = make_inputs(6, batch_size, seq_len, input_size, hidden_size)
    c0 = jax.random.normal(jax.random.PRNGKey(8), h0.shape)
    readout = jax.random.normal(jax.random.PRNGKey(7), (seq_len, hidden_size))

    def loss(params, xs, state0):
        if cell == "lstm":
            hs = recurrence.lstm(params, xs, state0)
        elif cell == "gru":
            hs = recurrence.gru(params, xs, state0[0])
        else:
            hs = recurrence.rnn(params, xs, state0[0], activation=cell.removeprefix("rnn_"))
        return jnp.sum(hs * readout), hs

    grad_fn = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)
    (_, hs), (param_grads, xs_grad, state_grads) = grad_fn(params, xs, (h0, c0))

    xs_torch = torch.tensor(np.array(xs), requires_grad=True)
    h0_torch = torch.tensor(np.array(h0)[None], requires_grad=True)
    c0_torch = torch.tensor(np.array(c0)[None], requires_grad=True)
    hs_torch, _ = module(xs_torch, (h0_torch, c0_torch) if cell == "lstm" else h0_torch)
    (hs_torch * torch.from_numpy(np.array(readout))).sum().backward()

    growth = (
        spectral_norm(params["w_hh"]) if cell.startswith("rnn") else 1.0
    )  # gates keep LSTM/GRU steps <= 1
    close = functools.partial(
        assert_float32_close, seq_len=seq_len, width=input_size + hidden_size, growth=growth
    )
    close(hs, hs_torch.detach().numpy())
    for name, grad in torch_reference.grads_from_torch(module).items():
        close(param_grads[name], grad)
    close(xs_grad, xs_torch.grad.numpy())
    close(state_grads[0], h0_torch.grad.numpy()[0])
    if cell == "lstm":
        close(state_grads[1], c0_torch.grad.numpy()[0])


@settings(max_examples=6, deadline=None)  # each compiles two programs; 12 took 79 s of CI, 8 took 54 s
@given(
    batch_size=st.integers(1, 5),
    seq_len=st.integers(1, 40),
    input_size=st.integers(1, 4),
    hidden_size=st.integers(1, 12),
    activation=st.sampled_from(["relu", "tanh"]),
    hoist_input=st.booleans(),
    unroll=st.sampled_from([1, 3, 8]),
)
def test_fused_gradients_equal_autodiff_of_the_plain_scan(
    batch_size, seq_len, input_size, hidden_size, activation, hoist_input, unroll
):
    params = random_params(jax.random.PRNGKey(seq_len), input_size, hidden_size, recurrent_scale=1.1)
    xs, h0 = make_inputs(hidden_size, batch_size, seq_len, input_size, hidden_size)
    weights = jax.random.normal(jax.random.PRNGKey(1), (batch_size, seq_len, hidden_size))

    def loss(params, xs, h0, implementation):
        hs = recurrence.rnn(
            params,
            xs,
            h0,
            activation=activation,
            unroll=unroll,
            implementation=implementation,
            hoist_input=hoist_input,
        )
        return jnp.sum(hs * weights)

    fused = jax.grad(loss, argnums=(0, 1, 2))(params, xs, h0, "fused")
    reference = jax.grad(loss, argnums=(0, 1, 2))(params, xs, h0, "autodiff")
    for got, want in zip(jax.tree.leaves(fused), jax.tree.leaves(reference), strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        assert_float32_close(
            got, want, seq_len=seq_len, width=input_size + hidden_size, growth=spectral_norm(params["w_hh"])
        )


@settings(max_examples=3, deadline=None)  # each compiles four programs; 6 took 50 s of CI, 4 took 33 s
@given(
    cell=st.sampled_from(["lstm", "gru"]),
    batch_size=st.integers(1, 4),
    seq_len=st.integers(1, 30),
    input_size=st.integers(1, 4),
    hidden_size=st.integers(1, 9),
    final_only=st.booleans(),
    unroll=st.sampled_from([1, 4]),
)
def test_fused_gated_cells_equal_autodiff_of_the_plain_scan(
    cell, batch_size, seq_len, input_size, hidden_size, final_only, unroll
):
    params = getattr(recurrence, f"init_{cell}")(jax.random.PRNGKey(seq_len), input_size, hidden_size)
    params = jax.tree.map(
        lambda leaf: leaf + jax.random.normal(jax.random.PRNGKey(3), leaf.shape) / 2, params
    )
    xs, h0 = make_inputs(hidden_size, batch_size, seq_len, input_size, hidden_size)
    state0 = (h0, jnp.cos(h0)) if cell == "lstm" else h0
    weights = jax.random.normal(jax.random.PRNGKey(1), (batch_size, seq_len, hidden_size))

    def loss(params, xs, state0, implementation):  # every output of the run gets a cotangent
        if final_only:
            final = getattr(recurrence, f"{cell}_final")(
                params, xs, state0, unroll=unroll, implementation=implementation
            )
            hs = jnp.zeros_like(weights)
        else:
            run = getattr(recurrence, cell)
            hs, final = run(
                params, xs, state0, unroll=unroll, return_state=True, implementation=implementation
            )
        return jnp.sum(hs * weights) + sum(
            jnp.sum(jnp.sin(part) * k) for k, part in enumerate(jax.tree.leaves(final), 2)
        )

    fused = jax.grad(loss, argnums=(0, 1, 2))(params, xs, state0, "fused")
    reference = jax.grad(loss, argnums=(0, 1, 2))(params, xs, state0, "autodiff")
    for got, want in zip(jax.tree.leaves(fused), jax.tree.leaves(reference), strict=True):
        assert got.shape == want.shape and got.dtype == want.dtype
        # each step's gates add a chain of about 16 rounded elementwise operations to the sums
        width = input_size + hidden_size + 16
        assert_float32_close(got, want, seq_len=seq_len, width=width, growth=1.0)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_final_state_of_a_gated_cell_is_the_last_step_of_its_run(cell):
    params = getattr(recurrence, f"init_{cell}")(jax.random.PRNGKey(0), 3, 6)
    xs, h0 = make_inputs(2, 4, 17, 3, 6)
    state0 = (h0, -h0) if cell == "lstm" else h0
    hs, final = getattr(recurrence, cell)(params, xs, state0, return_state=True)
    final_only = getattr(recurrence, f"{cell}_final")(params, xs, state0)
    np.testing.assert_allclose(jax.tree.leaves(final_only)[0], hs[:, -1], rtol=1e-6)
    for got, want in zip(jax.tree.leaves(final_only), jax.tree.leaves(final), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("implementation", ["fused", "autodiff"])
@pytest.mark.parametrize("input_size", [1, 3])
def test_rnn_final_equals_the_last_step_of_rnn_in_value_and_gradient(activation, implementation, input_size):
    params = random_params(jax.random.PRNGKey(2), input_size, 16, recurrent_scale=1.05)
    xs, h0 = make_inputs(3, 4, 60, input_size, 16)
    weights = jax.random.normal(jax.random.PRNGKey(4), (4, 16))

    def final_loss(params, xs, h0):
        return jnp.sum(
            recurrence.rnn_final(params, xs, h0, activation=activation, implementation=implementation)
            * weights
        )

    def reference_loss(params, xs, h0):
        hs = recurrence.rnn(params, xs, h0, activation=activation, implementation="autodiff")
        return jnp.sum(hs[:, -1] * weights)

    np.testing.assert_allclose(final_loss(params, xs, h0), reference_loss(params, xs, h0), rtol=1e-6)
    got = jax.grad(final_loss, argnums=(0, 1, 2))(params, xs, h0)
    want = jax.grad(reference_loss, argnums=(0, 1, 2))(params, xs, h0)
    for got_leaf, want_leaf in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        assert got_leaf.dtype == want_leaf.dtype
        assert_float32_close(
            got_leaf, want_leaf, seq_len=60, width=input_size + 16, growth=spectral_norm(params["w_hh"])
        )


@pytest.mark.parametrize("implementation", ["fused", "autodiff"])
def test_identity_recurrence_with_zero_input_keeps_a_nonnegative_state_for_1000_steps(implementation):
    hidden_size, batch_size = 20, 3
    params = recurrence.init_rnn(jax.random.PRNGKey(0), 2, hidden_size)
    params = {**params, "w_ih": jnp.ones_like(params["w_ih"])}  # zero input must still add nothing
    h0 = jax.random.uniform(jax.random.PRNGKey(1), (batch_size, hidden_size), minval=0.1, maxval=5.0)
    xs = jnp.zeros((batch_size, 1000, 2))
    upstream = jax.random.normal(jax.random.PRNGKey(2), (batch_size, hidden_size))

    def last_state_loss(h0):
        hs = recurrence.rnn(params, xs, h0, implementation=implementation)
        return jnp.sum(hs[:, -1] * upstream), hs

    h0_grad, hs = jax.grad(last_state_loss, has_aux=True)(h0)
    np.testing.assert_array_equal(hs, jnp.broadcast_to(h0[:, None], hs.shape))
    np.testing.assert_array_equal(h0_grad, upstream)
    final_state_grad = jax.grad(
        lambda h0: jnp.sum(recurrence.rnn_final(params, xs, h0, implementation=implementation) * upstream)
    )(h0)
    np.testing.assert_array_equal(final_state_grad, upstream)


def test_init_rnn_gives_the_irnn_defaults():
    params = recurrence.init_rnn(jax.random.PRNGKey(0), 300, 100)
    assert {name: value.shape for name, value in params.items()} == {
        "w_ih": (300, 100),
        "w_hh": (100, 100),
        "b": (100,),
    }
    np.testing.assert_array_equal(params["w_hh"], np.eye(100))
    np.testing.assert_array_equal(params["b"], np.zeros(100))
    assert abs(float(params["w_ih"].std()) - 1e-3) < 5e-5


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float32])
def test_rnn_keeps_the_parameter_dtype(dtype):
    params = recurrence.init_rnn(jax.random.PRNGKey(0), 2, 4, dtype=dtype)
    xs = jnp.ones((1, 5, 2), dtype)
    assert recurrence.rnn(params, xs).dtype == dtype
    grads = jax.grad(lambda p: recurrence.rnn(p, xs).astype(jnp.float32).sum())(params)
    assert all(grad.dtype == dtype for grad in jax.tree.leaves(grads))


PARAMS = recurrence.init_rnn(jax.random.PRNGKey(0), 2, 4)
XS = jnp.ones((3, 5, 2))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: recurrence.rnn(PARAMS, XS, activation="sigmoid"),
            ValueError,
            "unknown activation 'sigmoid'; allowed: relu, tanh",
        ),
        (
            lambda: recurrence.rnn(PARAMS, XS[0]),
            ValueError,
            r"xs must be 3-D \(batch, time, features\), got shape \(5, 2\)",
        ),
        (
            lambda: recurrence.rnn(PARAMS, XS.astype(jnp.int32)),
            TypeError,
            "xs must have a floating dtype, got int32",
        ),
        (lambda: recurrence.rnn(PARAMS, [[1.0]]), TypeError, "xs must be an array, got list"),
        (lambda: recurrence.rnn(PARAMS, jnp.ones((3, 0, 2))), ValueError, "non-zero sizes"),
        (
            lambda: recurrence.rnn(PARAMS, jnp.ones((3, 5, 7))),
            ValueError,
            r"input size 7 but params\['w_ih'\] expects 2",
        ),
        (
            lambda: recurrence.rnn(PARAMS, XS, jnp.zeros((3, 5))),
            ValueError,
            r"h0 must have shape \(batch, hidden\) = \(3, 4\), got \(3, 5\)",
        ),
        (
            lambda: recurrence.rnn({**PARAMS, "w_hh": jnp.zeros((3, 4))}, XS),
            ValueError,
            r"params\['w_hh'\] must have shape \(H, H\) \(square\), got shape \(3, 4\)",
        ),
        (lambda: recurrence.rnn({"w_ih": PARAMS["w_ih"]}, XS), ValueError, r"missing \['b', 'w_hh'\]"),
        (
            lambda: recurrence.rnn(PARAMS, XS, unroll=0),
            ValueError,
            "unroll must be a positive int, got unroll=0",
        ),
        (
            lambda: recurrence.rnn(PARAMS, XS, implementation="cuda"),
            ValueError,
            "unknown implementation 'cuda'",
        ),
        (
            lambda: recurrence.init_rnn(jax.random.PRNGKey(0), 2, 0),
            ValueError,
            "hidden_size must be a positive int, got hidden_size=0",
        ),
        (
            lambda: recurrence.init_rnn(jax.random.PRNGKey(0), -1, 3),
            ValueError,
            "input_size must be a positive int, got input_size=-1",
        ),
    ],
)
def test_bad_input_raises_an_error_naming_the_value_and_what_is_allowed(call, error, message):
    with pytest.raises(error, match=message):
        call()


LSTM_PARAMS = recurrence.init_lstm(jax.random.PRNGKey(0), 2, 4)
GRU_PARAMS = recurrence.init_gru(jax.random.PRNGKey(0), 2, 4)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: recurrence.lstm(LSTM_PARAMS, XS, jnp.zeros((3, 4))),
            TypeError,
            r"h0 must be a \(h, c\) tuple",
        ),
        (
            lambda: recurrence.lstm(LSTM_PARAMS, XS, (jnp.zeros((3, 4)), jnp.zeros((2, 4)))),
            ValueError,
            r"h0 must have shape \(batch, hidden\) = \(3, 4\), got \(2, 4\)",
        ),
        (
            lambda: recurrence.lstm(GRU_PARAMS, XS),
            ValueError,
            r"params\['w_hh'\] must have shape \(H, 4\*H\)",
        ),
        (lambda: recurrence.gru(LSTM_PARAMS, XS), ValueError, r"params is missing \['b_hn'\]"),
        (lambda: recurrence.gru(GRU_PARAMS, XS, unroll=-1), ValueError, "unroll must be a positive int"),
        (
            lambda: recurrence.init_lstm(jax.random.PRNGKey(0), 2, 4, forget_bias="-1"),
            TypeError,
            "forget_bias must be a real number, got forget_bias='-1'",
        ),
        (
            lambda: recurrence.parameter_specs(
                "transformer", 2, 4, recurrent_init=None, input_init=None, bias_init=None
            ),
            ValueError,
            "unknown cell kind 'transformer'; allowed: rnn, lstm, gru",
        ),
    ],
)
def test_gated_cells_refuse_bad_input_naming_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("implementation", ["fused", "autodiff"])
@pytest.mark.parametrize("final_only", [False, True])
def test_the_active_fraction_counted_in_the_loop_is_the_share_of_positive_states(implementation, final_only):
    params = random_params(jax.random.PRNGKey(5), 3, 16)
    xs, h0 = make_inputs(16, 4, 9, 3, 16)
    hs = python_loop_rnn(params, xs, h0, "relu")
    run = recurrence.rnn_final if final_only else recurrence.rnn

    def plain(params):
        return run(params, xs, h0, implementation=implementation)

    def counted(params):
        return simple.rnn_counting_active(
            params, xs, h0, final_only=final_only, implementation=implementation
        )

    result, active = counted(params)
    assert 0 < float(active) < 1
    np.testing.assert_allclose(active, np.mean(hs > 0), rtol=1e-6)
    np.testing.assert_array_equal(result, plain(params))
    for got, want in zip(
        jax.tree.leaves(jax.grad(lambda p: jnp.sum(jnp.sin(counted(p)[0])))(params)),
        jax.tree.leaves(jax.grad(lambda p: jnp.sum(jnp.sin(plain(p))))(params)),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_cell_takes_the_same_keywords_and_gives_its_final_state_the_same_way(cell):
    params = getattr(recurrence, f"init_{cell}")(jax.random.PRNGKey(2), 3, 5)
    xs = jax.random.normal(jax.random.PRNGKey(3), (4, 6, 3))
    options = {"unroll": 2, "implementation": "auto", "hoist_input": False}
    hs, final = getattr(recurrence, cell)(params, xs, return_state=True, **options)
    final_only = getattr(recurrence, f"{cell}_final")(params, xs, **options)
    np.testing.assert_allclose(getattr(recurrence, cell)(params, xs, **options), hs)
    for got, want in zip(jax.tree.leaves(final), jax.tree.leaves(final_only), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(jax.tree.leaves(final)[0], hs[:, -1], rtol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_take_the_fused_backward_at_small_batches_and_autodiff_at_large_ones(cell):
    params = getattr(recurrence, f"init_{cell}")(jax.random.PRNGKey(0), 1, 4)
    run = getattr(recurrence, f"{cell}_final")

    def uses_custom_vjp(batch_size):
        xs = jnp.ones((batch_size, 3, 1))
        return "custom_vjp" in str(jax.make_jaxpr(lambda p: run(p, xs))(params))

    limit = recurrence.GATED_FUSED_MAX_BATCH
    assert uses_custom_vjp(limit) and not uses_custom_vjp(limit + 1)
