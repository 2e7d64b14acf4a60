"""The optimisers a config names (``optim.name``): optax factories of a learning rate.

An entry is ``factory(learning_rate, [momentum]) -> optax.GradientTransformation``; ``momentum``
(the config's ``optim.momentum``) is passed to a factory that takes it. The training layer puts
it in a chain after gradient clipping and before the learning-rate decay
(:func:`irnn_jax.training.optim.make_optimizer`). Your own joins with :func:`register`
(``optimizers.register("lion", lambda learning_rate: optax.lion(learning_rate))``) or is named
by import path, ``optim.name = "my_pkg.optimizers:lion"``.
"""

from __future__ import annotations

from collections.abc import Callable

import optax

from irnn_jax.core import registry

OptimizerFactory = Callable[..., optax.GradientTransformation]


def sgd(learning_rate: float, momentum: float = 0.0) -> optax.GradientTransformation:
    """Plain SGD, or with ``momentum`` > 0 heavy-ball momentum.

    The update is ``-learning_rate * m_t`` with ``m_t = g_t + momentum * m_{t-1}`` (``m_t = g_t``
    for ``momentum=0``), :func:`optax.sgd`.

    Args:
      learning_rate: the step size (a number or an optax schedule).
      momentum: the momentum coefficient; 0 for plain SGD.

    Returns:
      The optax transformation.
    """
    return optax.sgd(learning_rate, momentum=momentum or None)


def adam(learning_rate: float) -> optax.GradientTransformation:
    """Adam with optax's defaults (b1 0.9, b2 0.999, eps 1e-8).

    Args:
      learning_rate: the step size (a number or an optax schedule).

    Returns:
      :func:`optax.adam`'s transformation.
    """
    return optax.adam(learning_rate)


def rmsprop(learning_rate: float) -> optax.GradientTransformation:
    """RMSProp with optax's defaults (decay 0.9, eps 1e-8).

    Args:
      learning_rate: the step size (a number or an optax schedule).

    Returns:
      :func:`optax.rmsprop`'s transformation (uncentred, no momentum).
    """
    return optax.rmsprop(learning_rate)


REGISTRY: registry.Registry[OptimizerFactory] = registry.Registry(
    "optimizer", {"sgd": sgd, "adam": adam, "rmsprop": rmsprop}
)
register = REGISTRY.register
