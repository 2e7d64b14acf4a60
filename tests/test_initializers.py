import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from irnn_jax.core import initializers

KEY = jax.random.PRNGKey(0)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_identity_returns_gain_times_identity_in_the_requested_dtype(dtype):
    weights = initializers.identity(gain=0.5)(KEY, (4, 4), dtype)
    assert weights.dtype == dtype
    np.testing.assert_array_equal(np.asarray(weights, np.float32), 0.5 * np.eye(4))


def test_identity_in_float64_under_x64_is_exact():
    with jax.enable_x64(True):
        weights = initializers.identity(gain=1.0 / 3.0)(KEY, (3, 3), jnp.float64)
        assert weights.dtype == jnp.float64
        np.testing.assert_array_equal(np.asarray(weights), np.eye(3) / 3.0)


def test_identity_default_dtype_is_float32():
    assert initializers.identity()(KEY, (2, 2)).dtype == jnp.float32


@pytest.mark.parametrize("shape", [(3, 4), (3,), (2, 2, 2), ()])
def test_identity_rejects_shapes_that_are_not_square_matrices(shape):
    with pytest.raises(
        ValueError, match=r"square 2-D shape .*shape=" + str(shape).replace("(", r"\(").replace(")", r"\)")
    ):
        initializers.identity()(KEY, shape)


def test_scaled_identity_is_the_papers_small_identity():
    np.testing.assert_array_equal(
        initializers.scaled_identity(0.01)(KEY, (3, 3)), 0.01 * np.eye(3, dtype=np.float32)
    )


def test_gaussian_draws_zero_mean_entries_with_the_requested_std():
    weights = np.asarray(initializers.gaussian(1e-3)(KEY, (400, 500)))
    assert abs(weights.std() - 1e-3) < 2e-5
    assert abs(weights.mean()) < 1e-5


@pytest.mark.parametrize(
    ("std", "error"), [(-0.1, ValueError), (float("nan"), ValueError), ("0.1", TypeError)]
)
def test_gaussian_rejects_a_bad_std_naming_it(std, error):
    with pytest.raises(error, match="std"):
        initializers.gaussian(std)


def test_uniform_draws_symmetric_entries_within_the_bound_as_pytorchs_uniform_does():
    import torch

    weights = np.asarray(initializers.uniform(0.25)(KEY, (400, 500)))
    expected = torch.nn.init.uniform_(torch.empty(400, 500), -0.25, 0.25).numpy()
    assert weights.min() >= -0.25 and weights.max() <= 0.25
    assert weights.min() < -0.249 and weights.max() > 0.249  # both ends, not Flax's [0, scale)
    assert abs(weights.std() - expected.std()) < 2e-3 and abs(weights.mean()) < 1e-3


@pytest.mark.parametrize(
    ("scale", "error"), [(-0.1, ValueError), (float("inf"), ValueError), ("0.1", TypeError)]
)
def test_uniform_rejects_a_bad_bound_naming_it(scale, error):
    with pytest.raises(error, match="scale"):
        initializers.uniform(scale)


def test_orthogonal_with_scale_gives_scaled_orthonormal_columns():
    weights = np.asarray(initializers.orthogonal(scale=2.0)(KEY, (6, 6)), np.float64)
    np.testing.assert_allclose(weights.T @ weights, 4.0 * np.eye(6), atol=1e-5)


def test_get_resolves_names_and_keyword_arguments():
    np.testing.assert_array_equal(initializers.get("identity", gain=2.0)(KEY, (2, 2)), 2.0 * np.eye(2))
    assert initializers.get("zeros")(KEY, (3,)).sum() == 0
    required = {"gaussian": {"std": 0.1}, "normal": {"std": 0.1}, "scaled_identity": {"scale": 0.01}}
    for name in initializers.names():
        assert initializers.get(name, **required.get(name, {}))(KEY, (3, 3)).shape == (3, 3)


def test_get_with_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown initializer 'identiy'.*identity.*orthogonal"):
        initializers.get("identiy")


def test_get_with_a_wrong_keyword_names_the_accepted_ones():
    with pytest.raises(TypeError, match=r"'identity' takes arguments \['gain'\], got \{'scale': 2\}"):
        initializers.get("identity", scale=2)


def test_identity_drops_into_flax_linen_simple_cell_as_recurrent_kernel_init():
    cell = nn.SimpleCell(features=5, recurrent_kernel_init=initializers.identity())
    inputs = jnp.ones((2, 3))
    variables = cell.init(KEY, cell.initialize_carry(KEY, inputs.shape), inputs)
    np.testing.assert_array_equal(variables["params"]["h"]["kernel"], np.eye(5))


def test_identity_drops_into_flax_nnx_simple_cell_as_recurrent_kernel_init():
    cell = nnx.SimpleCell(3, 5, recurrent_kernel_init=initializers.identity(), rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(np.asarray(cell.dense_h.kernel[...]), np.eye(5))


def test_np_rnn_is_symmetric_positive_definite_with_largest_eigenvalue_one():
    weights = np.asarray(initializers.get("np_rnn")(KEY, (64, 64)), np.float64)
    np.testing.assert_allclose(weights, weights.T, atol=1e-7)
    eigenvalues = np.linalg.eigvalsh(weights)
    assert eigenvalues.min() > 0
    np.testing.assert_allclose(eigenvalues.max(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("size", [2, 9, 40])
def test_eigen_draws_a_real_matrix_whose_eigenvalues_lie_in_the_requested_annulus(size):
    weights = np.asarray(initializers.eigen(magnitude=(0.5, 1.0))(KEY, (size, size)), np.float64)
    got = np.linalg.eigvals(weights)
    assert np.all(np.abs(got) >= 0.5 - 1e-5) and np.all(np.abs(got) <= 1.0 + 1e-5)
    np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(np.conj(got)), atol=1e-5)  # real matrix
    assert np.ptp(np.abs(got)) > 0.05 or size == 2  # magnitudes drawn across the range, not one value
    other = np.linalg.eigvals(
        np.asarray(initializers.eigen(magnitude=(0.5, 1.0))(jax.random.PRNGKey(9), (size, size)))
    )
    assert not np.allclose(np.sort_complex(got), np.sort_complex(other), atol=1e-3)


def test_eigen_with_a_fixed_magnitude_and_phase_places_every_pair_there():
    weights = np.asarray(initializers.get("eigen", magnitude=0.9, phase=0.3)(KEY, (6, 6)), np.float64)
    got = np.linalg.eigvals(weights)
    np.testing.assert_allclose(np.abs(got), 0.9, rtol=1e-5)
    np.testing.assert_allclose(np.sort(np.abs(np.angle(got))), 0.3, rtol=1e-4)


def test_eigen_is_not_symmetric_so_its_orientation_matters():
    weights = np.asarray(initializers.eigen()(KEY, (8, 8)))
    assert np.abs(weights - weights.T).max() > 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"magnitude": -0.5}, r"eigen magnitudes must be >= 0"),
        ({"phase": (1.0, 0.0)}, r"phase range must have low <= high, got phase=\(1.0, 0.0\)"),
        ({"magnitude": "big"}, r"magnitude must be a real number"),
    ],
)
def test_eigen_refuses_a_bad_spectrum_naming_it(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        initializers.eigen(**kwargs)(KEY, (4, 4))


@pytest.mark.parametrize("name", ["np_rnn", "eigen"])
def test_spectral_initialisers_refuse_non_square_shapes(name):
    with pytest.raises(ValueError, match=rf"{name} needs a square 2-D shape"):
        initializers.get(name)(KEY, (3, 4))


# What each registered name must draw, from JAX's own initialisers (an independent source).
JAX_REFERENCES = {
    "gaussian": jax.nn.initializers.normal(0.1),
    "normal": jax.nn.initializers.normal(0.1),
    "zeros": jax.nn.initializers.zeros,
    "orthogonal": jax.nn.initializers.orthogonal(),
    "glorot_uniform": jax.nn.initializers.glorot_uniform(),
    "xavier_uniform": jax.nn.initializers.glorot_uniform(),
    "glorot_normal": jax.nn.initializers.glorot_normal(),
    "xavier_normal": jax.nn.initializers.glorot_normal(),
    "he_uniform": jax.nn.initializers.he_uniform(),
    "kaiming_uniform": jax.nn.initializers.he_uniform(),
    "he_normal": jax.nn.initializers.he_normal(),
    "kaiming_normal": jax.nn.initializers.he_normal(),
    "lecun_normal": jax.nn.initializers.lecun_normal(),
    # N(0, g^2 / N), N = 6 rows, with the ReLU gain sqrt(2) exp(1.2 / (max(N, 6) - 2.4))
    "random_walk": jax.nn.initializers.normal(math.sqrt(2) * math.exp(1.2 / 3.6) / math.sqrt(6)),
    # N(0, g^2 / N), N = 6 rows, with the gain given (ARGUMENTS)
    "fan_in_gaussian": jax.nn.initializers.normal(1.3 / math.sqrt(6)),
}
# The rest, by a property that only the named initialiser has.
PROPERTIES = {
    "identity": lambda w: np.array_equal(w, np.eye(len(w))),
    "scaled_identity": lambda w: np.allclose(w, 0.01 * np.eye(len(w))),
    "np_rnn": lambda w: (  # symmetric, largest eigenvalue 1, the others spread below it
        np.allclose(w, w.T)
        and np.isclose(np.linalg.eigvalsh(w).max(), 1.0, rtol=1e-5)
        and np.linalg.eigvalsh(w).min() < 0.9
    ),
    "eigen": lambda w: np.allclose(np.abs(np.linalg.eigvals(w)), 0.9, rtol=1e-4),
    "uniform": lambda w: np.abs(w).max() <= 0.1 and w.min() < 0 < w.max(),  # U(-0.1, 0.1) by default
}
ARGUMENTS = {"gaussian": {"std": 0.1}, "normal": {"std": 0.1}, "scaled_identity": {"scale": 0.01}}
ARGUMENTS["eigen"] = {"magnitude": 0.9}
ARGUMENTS["fan_in_gaussian"] = {"gain": 1.3}


def test_every_registered_name_is_checked_below():
    assert set(initializers.names()) == set(JAX_REFERENCES) | set(PROPERTIES)


def test_a_registration_in_a_scoped_block_is_gone_after_it():
    with initializers.REGISTRY.scoped():
        initializers.register("twice_identity", lambda: initializers.identity(2.0))
        assert initializers.get("twice_identity")(KEY, (2, 2))[0, 0] == 2.0
    assert "twice_identity" not in initializers.names()


@pytest.mark.parametrize("name", sorted(JAX_REFERENCES))
def test_every_registry_name_builds_the_initializer_it_names(name):
    ours = initializers.get(name, **ARGUMENTS.get(name, {}))(KEY, (6, 8))
    np.testing.assert_array_equal(ours, JAX_REFERENCES[name](KEY, (6, 8)))


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_every_square_only_registry_name_has_its_defining_property(name):
    weights = np.asarray(initializers.get(name, **ARGUMENTS.get(name, {}))(KEY, (6, 6)), np.float64)
    assert PROPERTIES[name](weights)
    others = [other for other in PROPERTIES if other != name]
    assert not any(PROPERTIES[other](weights) for other in others)


def test_each_gate_block_gets_its_own_draw():
    weights = np.asarray(initializers.per_block(initializers.orthogonal(), 4)(KEY, (6, 24)), np.float64)
    blocks = np.split(weights, 4, axis=1)
    for block in blocks:  # each block is a draw of the initialiser on its own
        np.testing.assert_allclose(block.T @ block, np.eye(6), atol=1e-5)
    for first in range(4):
        for second in range(first + 1, 4):
            assert np.abs(blocks[first] - blocks[second]).max() > 0.1


@pytest.mark.parametrize(
    ("nonlinearity", "gain"),
    [("tanh", 1.13), ("linear", math.exp(1 / (2 * 50))), ("relu", math.sqrt(2) * math.exp(1.2 / 47.6))],
)
def test_random_walk_draws_gaussians_with_the_gain_of_its_nonlinearity(nonlinearity, gain):
    ours = initializers.random_walk(nonlinearity)(KEY, (50, 30))
    np.testing.assert_array_equal(ours, jax.nn.initializers.normal(gain / math.sqrt(50))(KEY, (50, 30)))


def test_random_walk_refuses_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="unknown random_walk nonlinearity 'gelu'; allowed: relu, tanh"):
        initializers.random_walk("gelu")


def test_a_negative_eigen_magnitude_is_refused_when_the_initialiser_is_made_not_later():
    with pytest.raises(ValueError, match="magnitudes must be >= 0"):
        initializers.eigen(magnitude=(-0.5, 1.0))


@pytest.mark.parametrize("shape", [(0, 4), (4,)])
def test_a_fan_in_gaussian_of_no_fan_in_is_refused_naming_the_shape(shape):
    with pytest.raises(ValueError, match=r"with fan_in >= 1, got shape="):
        initializers.fan_in_gaussian(1.0)(KEY, shape)
