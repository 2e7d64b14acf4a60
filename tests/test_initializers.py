import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from irnn_jax import initializers

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
