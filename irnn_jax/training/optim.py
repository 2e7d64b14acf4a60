"""Optax chains from config: clipping, then the optimiser (SGD with optional momentum, Adam,
RMSProp, or one registered in :mod:`irnn_jax.core.optimizers`), then decay.

The whole chain is wrapped in ``optax.inject_hyperparams``, so ``learning_rate`` and ``clip``
live in the optimiser state (``opt_state.hyperparams``) where sweeps can set them per run.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import optax

from irnn_jax.config import schema
from irnn_jax.core import optimizers


def _chain(
    learning_rate: float, clip: float, *, name: str, clip_mode: str, momentum: float, decay_steps: int
) -> optax.GradientTransformation:
    factory = optimizers.REGISTRY.get(name)
    takes_momentum = "momentum" in inspect.signature(factory).parameters
    optimizer = factory(learning_rate, momentum=momentum) if takes_momentum else factory(learning_rate)
    clipping = {
        "global_norm": lambda: optax.clip_by_global_norm(clip),
        "value": lambda: optax.clip(clip),
        "none": optax.identity,
    }[clip_mode]()
    decay = (
        optax.scale_by_schedule(optax.cosine_decay_schedule(1.0, decay_steps))
        if decay_steps
        else optax.identity()
    )
    return optax.chain(clipping, optimizer, decay)


def make_optimizer(optim_config: Mapping[str, Any]) -> optax.GradientTransformation:
    """Build ``chain(clip, optimizer, decay)`` from a config's ``optim`` section.

    Args:
      optim_config: the section (:class:`irnn_jax.config.schema.OptimSettings`, where its fields,
        checks and defaults are): the required ``name`` in {sgd, adam, rmsprop} and ``lr`` > 0,
        and the optional ``clip_mode`` in {global_norm, value, none} (default none), ``clip`` > 0
        (ignored for 'none'; default 1), ``momentum`` in [0, 1) (sgd only; default 0, plain
        SGD) and ``decay_steps`` >= 0 (default 0): when positive, updates are scaled by a cosine
        from 1 at step 0 to 0 at ``decay_steps`` (kept outside ``learning_rate``, so a sweep
        still sets the base rate).

    Returns:
      An ``optax.GradientTransformation`` whose state carries ``hyperparams['learning_rate']``
      and ``hyperparams['clip']``. Clipping by global norm rescales ``g`` to
      ``g * min(1, clip / ||g||_2)``; by value clamps each entry to ``[-clip, clip]``.
    """
    settings = schema.OptimSettings.from_config(optim_config)
    static = {
        "name": settings.name,
        "clip_mode": settings.clip_mode,
        "momentum": settings.momentum,
        "decay_steps": settings.decay_steps,
    }
    return optax.inject_hyperparams(_chain, static_args=tuple(static))(
        learning_rate=settings.lr, clip=settings.clip, **static
    )


def set_hyperparams(opt_state: Any, **values: Any) -> Any:
    """``opt_state`` (of :func:`make_optimizer`) with injected hyperparameters replaced.

    Args:
      opt_state: the state of an optimizer built by :func:`make_optimizer` (an
        ``optax.inject_hyperparams`` state), or a stack of them (a sweep's).
      **values: new values by hyperparameter name, e.g. ``learning_rate=1e-4``: a scalar, or for
        a stacked state one value per run. Each keeps the dtype it had.

    Returns:
      The state with those hyperparameters replaced; the optimizer's moments are untouched.

    Raises:
      ValueError: a name that is not an injected hyperparameter (the message lists those).
    """
    hyperparams = dict(opt_state.hyperparams)
    for name, value in values.items():
        if name not in hyperparams:
            raise ValueError(f"unknown hyperparameter {name!r}; injected: {', '.join(hyperparams)}")
        hyperparams[name] = jnp.asarray(value, hyperparams[name].dtype)
    return opt_state._replace(hyperparams=hyperparams)


def learning_rate_at(opt_state: Any, decay_steps: int, step: int) -> float:
    """The learning rate of the update that made ``step``.

    Args:
      opt_state: the optimizer state (of :func:`make_optimizer`); its injected base rate is the
        config's ``optim.lr``, lowered by each rollback.
      decay_steps: the cosine schedule's length, ``optim.decay_steps``; 0 for a constant rate.
      step: the 1-based step whose update is asked about.

    Returns:
      ``base * 0.5 * (1 + cos(pi * min(step - 1, decay_steps) / decay_steps))``, the base rate
      times the cosine decay's factor after ``step - 1`` updates, or the base rate when
      ``decay_steps`` is 0.
    """
    base = float(opt_state.hyperparams["learning_rate"])
    if not decay_steps:
        return base
    return base * float(optax.cosine_decay_schedule(1.0, decay_steps)(step - 1))
