"""The matrix products both kinds of cell share: the input projection and where it goes, and the
pieces of the fused backward passes (the transposed product in the reverse loop, the weight
gradients as single GEMMs over every step, and the cast back to the parameters' dtypes)."""

from __future__ import annotations

import jax
from jax import lax


def hoists_input_projection(input_size: int, batch_size: int, seq_len: int, hidden_size: int) -> bool:
    """Whether the default path computes ``xs @ w_ih + b`` before the loop for this shape.

    For a scalar input the in-loop product is a cheap broadcast multiply, while hoisting adds a
    ``[T, B, H]`` array to memory traffic; for wider inputs one large matmul beats T small ones.
    """
    del batch_size, seq_len, hidden_size
    return input_size > 1


def project(x: jax.Array, w_ih: jax.Array, b: jax.Array) -> jax.Array:
    """The input projection ``x @ w_ih + b``, a broadcast product for a scalar input."""
    return x * w_ih[0] + b if w_ih.shape[0] == 1 else x @ w_ih + b


def transpose_matmul(a: jax.Array, w: jax.Array) -> jax.Array:
    """``a @ w.T`` without materialising the transpose."""
    return lax.dot_general(a, w, (((a.ndim - 1,), (1,)), ((), ())))


def weight_gradients(
    xs: jax.Array, h_prevs: jax.Array, d_projected: jax.Array, d_recurrent: jax.Array | None = None
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(dw_ih, dw_hh, db)`` as single GEMMs over ``[T*B, .]`` rows: at each step, ``d_projected``
    is the gradient of the input projection ``x_t @ w_ih + b`` and ``d_recurrent`` that of the
    recurrent product ``h_{t-1} @ w_hh`` (the same array, the default, when the cell adds the two
    before its nonlinearity, as the simple RNN and the LSTM do); ``xs`` and ``h_prevs`` are the
    steps' inputs and previous states, ``[T, B, .]``."""
    rows = d_projected.shape[0] * d_projected.shape[1]
    d_projected_rows = d_projected.reshape(rows, -1)
    d_recurrent_rows = d_projected_rows if d_recurrent is None else d_recurrent.reshape(rows, -1)
    dw_ih = xs.reshape(rows, -1).T @ d_projected_rows
    dw_hh = h_prevs.reshape(rows, -1).T @ d_recurrent_rows
    return dw_ih, dw_hh, d_projected_rows.sum(axis=0)


def cast_like(grads: tuple[jax.Array, ...], primals: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
    """Each gradient in its primal's dtype."""
    return tuple(grad.astype(primal.dtype) for grad, primal in zip(grads, primals, strict=True))
