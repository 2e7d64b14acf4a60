"""The Flax NNX modules equal the linen ones on the same parameters, forward and gradient."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from irnn_jax import models
from irnn_jax.core import initializers
from irnn_jax.models import nnx as nnx_models

XS = jax.random.normal(jax.random.PRNGKey(0), (3, 6, 2))
LENGTHS = jnp.array([6, 4, 2])


def both(cell, **options):
    """A linen and an NNX model of the same spec, the NNX one given the linen parameters."""
    nnx_options = {key: value for key, value in options.items() if key != "lengths"}
    linen = models.RNNModel(hidden_size=5, output_size=3, cell=cell, **nnx_options)
    params = linen.init(jax.random.PRNGKey(1), XS)["params"]
    params = jax.tree.map(lambda p: p + 0.1 * jax.random.normal(jax.random.PRNGKey(2), p.shape), params)
    native = nnx_models.RNNModel(2, 5, 3, cell=cell, rngs=nnx.Rngs(3), **nnx_options)
    assert jax.tree.structure(nnx_models.params(native)) == jax.tree.structure(params)
    nnx_models.set_params(native, params)
    return linen, params, native


CASES = [  # every cell and every option, each in some pairing
    ("irnn", {}),
    ("rnn_tanh", {"bidirectional": True, "lengths": LENGTHS}),
    ("lstm", {"layers": 2, "bidirectional": True}),
    ("lstm", {"bidirectional": True, "lengths": LENGTHS}),
    ("gru", {"readout": "sequence", "projection_size": 4}),
    ("irnn", {"layers": 2, "readout": "sequence"}),
]


@pytest.mark.parametrize(
    ("cell", "options"), CASES, ids=[f"{cell} {sorted(options)}" for cell, options in CASES]
)
def test_the_nnx_model_equals_the_linen_model_forward_and_gradient(cell, options):
    linen, params, native = both(cell, **options)
    lengths = options.get("lengths")

    def linen_loss(params):
        return jnp.sum(jnp.sin(linen.apply({"params": params}, XS, lengths)))

    graph, state = nnx.split(native)

    def nnx_loss(state):
        return jnp.sum(jnp.sin(nnx.merge(graph, state)(XS, lengths)))

    np.testing.assert_allclose(
        native(XS, lengths), linen.apply({"params": params}, XS, lengths), rtol=1e-5, atol=1e-6
    )
    nnx_grads = nnx.to_pure_dict(jax.grad(nnx_loss)(state))
    linen_grads = jax.grad(linen_loss)(params)
    for mine, theirs in zip(jax.tree.leaves(nnx_grads), jax.tree.leaves(linen_grads), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)


def test_an_nnx_irnn_starts_from_the_identity_and_its_parameters_read_back_as_linen_ones():
    native = nnx_models.RNNModel(2, 5, 1, recurrent_init=initializers.identity(), rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(native.rnn.layer_0.w_hh[...], np.eye(5))
    linen = models.RNNModel(hidden_size=5, output_size=1)
    out = linen.apply({"params": nnx_models.params(native)}, XS)
    np.testing.assert_allclose(out, native(XS), rtol=1e-6)
