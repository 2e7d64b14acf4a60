import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irnn_jax.core import recurrence

INIT = {"rnn": recurrence.init_rnn, "lstm": recurrence.init_lstm, "gru": recurrence.init_gru}
KINDS = tuple(INIT)


def params_and_inputs(kind, batch=3, steps=6, inputs=4, hidden=5):
    params = INIT[kind](jax.random.key(0), inputs, hidden)
    params = jax.tree.map(lambda p: p + 0.3 * jax.random.normal(jax.random.key(1), p.shape), params)
    xs = jax.random.normal(jax.random.key(2), (batch, steps, inputs))
    return params, xs


def as_tuple(kind, state):
    return state if kind == "lstm" else (state,)


@pytest.mark.parametrize("kind", KINDS)
def test_full_length_sequences_give_the_recurrences_states(kind):
    params, xs = params_and_inputs(kind)
    hs, final = recurrence.scan_lengths(kind, params, xs, jnp.full((3,), 6))
    expected_hs, expected_final = getattr(recurrence, kind)(params, xs, return_state=True)
    np.testing.assert_allclose(hs, expected_hs, rtol=1e-5, atol=1e-6)
    for part, expected in zip(final, as_tuple(kind, expected_final), strict=True):
        np.testing.assert_allclose(part, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_each_sequence_ends_in_the_state_of_its_real_steps_read_alone_whatever_the_padding(kind):
    params, xs = params_and_inputs(kind)
    lengths = jnp.array([6, 2, 0])
    garbage = jnp.where(jnp.arange(6)[None, :, None] < lengths[:, None, None], xs, 1e3)
    hs, final = recurrence.scan_lengths(kind, params, garbage, lengths)
    for b, length in enumerate(lengths.tolist()):
        if length == 0:
            alone = tuple(jnp.zeros(5) for _ in final)
        else:
            _, alone = getattr(recurrence, kind)(params, xs[b : b + 1, :length], return_state=True)
            alone = tuple(part[0] for part in as_tuple(kind, alone))
        for part, expected in zip(final, alone, strict=True):
            np.testing.assert_allclose(part[b], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            hs[b, max(length - 1, 0) :], jnp.broadcast_to(final[0][b], (6 - max(length - 1, 0), 5))
        )


@pytest.mark.parametrize("kind", KINDS)
def test_one_step_is_the_recurrence_over_one_step_from_the_same_state(kind):
    params, xs = params_and_inputs(kind)
    _, state = getattr(recurrence, kind)(params, xs[:, :3], return_state=True)
    stepped = recurrence.step(kind, params, as_tuple(kind, state), xs[:, 3])
    _, expected = getattr(recurrence, kind)(params, xs[:, :4], return_state=True)
    for part, want in zip(stepped, as_tuple(kind, expected), strict=True):
        np.testing.assert_allclose(part, want, rtol=1e-5, atol=1e-6)


def test_a_tanh_step_uses_tanh():
    params, xs = params_and_inputs("rnn")
    (h,) = recurrence.step("rnn", params, (jnp.zeros((3, 5)),), xs[:, 0], activation="tanh")
    np.testing.assert_allclose(h, recurrence.rnn(params, xs[:, :1], activation="tanh")[:, 0], rtol=1e-6)


def test_gradients_flow_only_through_the_real_steps():
    params, xs = params_and_inputs("lstm")
    lengths = jnp.array([6, 2, 4])
    grad = jax.grad(
        lambda xs: sum(jnp.sum(part) for part in recurrence.scan_lengths("lstm", params, xs, lengths)[1])
    )(xs)
    past_the_end = jnp.arange(6)[None, :] >= lengths[:, None]
    assert np.all(np.asarray(grad)[np.asarray(past_the_end)] == 0)
    assert np.all(np.abs(np.asarray(grad)[~np.asarray(past_the_end)]).sum(-1) > 0)


@pytest.mark.parametrize(
    ("kind", "lengths", "message"),
    [
        ("elman", jnp.array([1, 2, 3]), r"unknown kind 'elman'; allowed: rnn, lstm, gru"),
        ("rnn", jnp.array([1, 2]), r"lengths must be \[batch\] = \(3,\), got shape \(2,\)"),
    ],
)
def test_bad_arguments_are_named(kind, lengths, message):
    params, xs = params_and_inputs("rnn")
    with pytest.raises(ValueError, match=message):
        recurrence.scan_lengths(kind, params, xs, lengths)
