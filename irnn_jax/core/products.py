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

    Args:
      input_size: ``D``, the width of each input step.
      batch_size: ``B`` (unused: the choice depends on ``D`` only).
      seq_len: ``T`` (unused).
      hidden_size: ``H`` (unused).

    Returns:
      ``input_size > 1``.
    """
    del batch_size, seq_len, hidden_size
    return input_size > 1


def project(x: jax.Array, w_ih: jax.Array, b: jax.Array) -> jax.Array:
    """The input projection ``x @ w_ih + b``, a broadcast product for a scalar input.

    Args:
      x: inputs ``[..., D]`` (``[B, D]`` for one step, ``[T, B, D]`` for all).
      w_ih: input weights ``[D, G*H]``.
      b: bias ``[G*H]``.

    Returns:
      ``[..., G*H]``; for ``D == 1``, computed as ``x * w_ih[0] + b``.
    """
    return x * w_ih[0] + b if w_ih.shape[0] == 1 else x @ w_ih + b


def transpose_matmul(a: jax.Array, w: jax.Array) -> jax.Array:
    """``a @ w.T`` without materialising the transpose.

    Args:
      a: ``[..., K]``.
      w: ``[M, K]``.

    Returns:
      ``[..., M]``, contracting ``a``'s last axis with ``w``'s second.
    """
    return lax.dot_general(a, w, (((a.ndim - 1,), (1,)), ((), ())))


def weight_gradients(
    xs: jax.Array, h_prevs: jax.Array, d_projected: jax.Array, d_recurrent: jax.Array | None = None
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(dw_ih, dw_hh, db)`` as single GEMMs over ``[T*B, .]`` rows: at each step, ``d_projected``
    is the gradient of the input projection ``x_t @ w_ih + b`` and ``d_recurrent`` that of the
    recurrent product ``h_{t-1} @ w_hh`` (the same array, the default, when the cell adds the two
    before its nonlinearity, as the simple RNN and the LSTM do); ``xs`` and ``h_prevs`` are the
    steps' inputs and previous states, ``[T, B, .]``.

    That is ``dw_ih = sum_t x_t^T d_projected_t``, ``dw_hh = sum_t h_{t-1}^T d_recurrent_t`` and
    ``db = sum_t sum_b d_projected_t``.

    Args:
      xs: the steps' inputs ``[T, B, D]``.
      h_prevs: the states each step's recurrent product read, ``h_{t-1}``, ``[T, B, H]``.
      d_projected: gradient of each step's input projection, ``[T, B, G*H]``.
      d_recurrent: gradient of each step's recurrent product, ``[T, B, G*H]``; ``None`` for
        ``d_projected``.

    Returns:
      ``(dw_ih [D, G*H], dw_hh [H, G*H], db [G*H])``.
    """
    rows = d_projected.shape[0] * d_projected.shape[1]
    d_projected_rows = d_projected.reshape(rows, -1)
    d_recurrent_rows = d_projected_rows if d_recurrent is None else d_recurrent.reshape(rows, -1)
    dw_ih = xs.reshape(rows, -1).T @ d_projected_rows
    dw_hh = h_prevs.reshape(rows, -1).T @ d_recurrent_rows
    return dw_ih, dw_hh, d_projected_rows.sum(axis=0)


def cast_like(grads: tuple[jax.Array, ...], primals: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
    """Each gradient in its primal's dtype.

    Args:
      grads: the gradients.
      primals: the arrays they are gradients of, in the same order.

    Returns:
      ``tuple(grad.astype(primal.dtype))`` pairwise.

    Raises:
      ValueError: if the two tuples differ in length.
    """
    return tuple(grad.astype(primal.dtype) for grad, primal in zip(grads, primals, strict=True))
