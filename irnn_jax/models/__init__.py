"""The Flax models on top of the pure recurrences: the linen modules (:mod:`irnn_jax.models.linen`,
whose names this package gives, as ``irnn_jax.models.RNNModel``), their NNX twins with the same
parameter pytree (:mod:`irnn_jax.models.nnx`), and the gradient-flow probes
(:mod:`irnn_jax.models.diagnostics`)."""

from irnn_jax.models.linen import (
    CELLS,
    CONFIG_FIELDS,
    DTYPES,
    INIT_FIELDS,
    PROBED_STATES,
    PROBES,
    READOUTS,
    RECURRENCE_BY_CELL,
    LayerSpec,
    RecurrentLayer,
    RecurrentStack,
    RNNModel,
    StackSpec,
    State,
    from_config,
    last_states,
    layer_outputs,
    layer_recurrence,
    reverse_time,
)

__all__ = [
    "CELLS",
    "CONFIG_FIELDS",
    "DTYPES",
    "INIT_FIELDS",
    "PROBED_STATES",
    "PROBES",
    "READOUTS",
    "RECURRENCE_BY_CELL",
    "LayerSpec",
    "RNNModel",
    "RecurrentLayer",
    "RecurrentStack",
    "StackSpec",
    "State",
    "from_config",
    "last_states",
    "layer_outputs",
    "layer_recurrence",
    "reverse_time",
]
