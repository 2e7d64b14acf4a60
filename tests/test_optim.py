import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from irnn_jax.config import schema
from irnn_jax.training import optim

PARAMS = {"w": jnp.zeros((3, 4)), "b": jnp.zeros(4)}
BIG_GRADS = {"w": jnp.full((3, 4), 30.0), "b": jnp.full(4, -50.0)}


def config(**changes):
    return {"name": "sgd", "lr": 0.5, "momentum": 0.0, "clip_mode": "global_norm", "clip": 2.0, **changes}


def updates_for(optim_config, grads=BIG_GRADS):
    tx = optim.make_optimizer(optim_config)
    updates, _ = tx.update(grads, tx.init(PARAMS), PARAMS)
    return updates


def test_global_norm_clipping_bounds_the_sgd_update_norm_by_lr_times_clip():
    updates = updates_for(config())
    np.testing.assert_allclose(optax.tree.norm(updates), 0.5 * 2.0, rtol=1e-6)


def test_small_gradients_pass_global_norm_clipping_unchanged():
    grads = jax.tree.map(lambda g: g * 1e-3, BIG_GRADS)
    updates = updates_for(config(), grads)
    for update, grad in zip(jax.tree.leaves(updates), jax.tree.leaves(grads), strict=True):
        np.testing.assert_allclose(update, -0.5 * grad, rtol=1e-6)


def test_value_clipping_bounds_every_entry():
    updates = updates_for(config(clip_mode="value", clip=1.0))
    np.testing.assert_allclose(updates["w"], -0.5)
    np.testing.assert_allclose(updates["b"], 0.5)


def test_no_clipping_is_plain_sgd():
    np.testing.assert_allclose(updates_for(config(clip_mode="none"))["b"], 25.0)


def test_momentum_accumulates_the_velocity():
    tx = optim.make_optimizer(config(clip_mode="none", momentum=0.9, lr=1.0))
    grads = {"w": jnp.ones((3, 4)), "b": jnp.ones(4)}
    state = tx.init(PARAMS)
    _, state = tx.update(grads, state, PARAMS)
    updates, _ = tx.update(grads, state, PARAMS)
    np.testing.assert_allclose(updates["b"], -1.9, rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "first_step"),
    # Adam's bias-corrected first step is lr * g / |g|; RMSProp's (decay 0.9, no momentum) is
    # lr * g / sqrt(0.1 g^2). Clipping rescales g, which neither step sees.
    [("adam", 1.0), ("rmsprop", 1 / np.sqrt(0.1))],
)
def test_adam_and_rmsprop_take_their_known_first_step_behind_the_same_clipping(name, first_step):
    updates = updates_for(config(name=name, lr=1e-3))
    for update, grad in zip(jax.tree.leaves(updates), jax.tree.leaves(BIG_GRADS), strict=True):
        np.testing.assert_allclose(update, -1e-3 * first_step * np.sign(grad), rtol=1e-4)


def test_cosine_decay_scales_adam_updates():
    """With a constant gradient Adam's step is lr every step; the decay must scale it afterwards
    (decaying the gradient before Adam would be normalised away)."""
    tx = optim.make_optimizer(config(name="adam", lr=1.0, clip_mode="none", decay_steps=4))
    grads = {"w": jnp.ones((3, 4)), "b": jnp.ones(4)}
    state, steps = tx.init(PARAMS), []
    for _ in range(4):
        updates, state = tx.update(grads, state, PARAMS)
        steps.append(float(updates["b"][0]))
    expected = [-0.5 * (1 + np.cos(np.pi * t / 4)) for t in range(4)]  # 1, .85, .5, .15
    np.testing.assert_allclose(steps, expected, rtol=1e-4)


def test_learning_rate_and_clip_are_injected_hyperparameters_a_sweep_can_set():
    tx = optim.make_optimizer(config())
    state = tx.init(PARAMS)
    assert set(state.hyperparams) == {"learning_rate", "clip"}
    state.hyperparams["learning_rate"] = jnp.asarray(0.25)
    state.hyperparams["clip"] = jnp.asarray(4.0)
    updates, _ = tx.update(BIG_GRADS, state, PARAMS)
    np.testing.assert_allclose(optax.tree.norm(updates), 0.25 * 4.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"name": "lbfgs"}, ValueError, "unknown optimizer 'lbfgs'; known optimizers: adam, rmsprop, sgd"),
        ({"clip_mode": "norm"}, ValueError, "unknown optim.clip_mode 'norm'; allowed: global_norm, value"),
        ({"lr": 0.0}, ValueError, r"optim.lr must be > 0, got optim.lr=0.0"),
        ({"lr": "fast"}, TypeError, "optim.lr must be a real number, got optim.lr='fast'"),
        ({"clip": -1.0}, ValueError, "optim.clip must be > 0 with clip_mode='global_norm', got -1.0"),
        ({"momentum": 1.0}, ValueError, r"optim.momentum must be in \[0, 1\), got 1.0"),
        (
            {"decay_steps": -5},
            ValueError,
            "optim.decay_steps must be a positive int, got optim.decay_steps=-5",
        ),
    ],
)
def test_bad_optimiser_settings_raise_naming_the_value(changes, error, message):
    with pytest.raises(error, match=message):
        optim.make_optimizer(config(**changes))


def test_cosine_decay_scales_updates_from_one_to_zero_over_decay_steps():
    tx = optim.make_optimizer(config(clip_mode="none", lr=1.0, decay_steps=4))
    grads = {"w": jnp.zeros((3, 4)), "b": jnp.ones(4)}
    state = tx.init(PARAMS)
    scales = []
    for _ in range(6):
        updates, state = tx.update(grads, state, PARAMS)
        scales.append(-float(updates["b"][0]))
    np.testing.assert_allclose(
        scales,
        [1.0, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.5 * (1 + np.cos(3 * np.pi / 4)), 0.0, 0.0],
        atol=1e-6,
    )


def test_a_name_and_a_learning_rate_are_enough_the_rest_takes_the_documented_defaults():
    defaults = {"momentum": 0.0, "clip_mode": "none", "clip": 1.0, "decay_steps": 0}
    assert schema.OptimSettings.defaults() == defaults
    short = updates_for({"name": "sgd", "lr": 0.5})
    np.testing.assert_allclose(short["b"], updates_for(config(clip_mode="none"))["b"])  # no clipping


@pytest.mark.parametrize("missing", ["name", "lr"])
def test_an_optim_section_without_a_name_or_learning_rate_says_which_is_missing(missing):
    section = {key: value for key, value in config().items() if key != missing}
    with pytest.raises(ValueError, match=f"optim is missing field\\(s\\) {missing}"):
        optim.make_optimizer(section)
