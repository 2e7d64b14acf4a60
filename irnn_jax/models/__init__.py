"""The Flax models on top of the pure recurrences: the linen modules (:mod:`irnn_jax.models.linen`,
whose names this package gives, as ``irnn_jax.models.RNNModel``), their NNX twins with the same
parameter pytree (:mod:`irnn_jax.models.nnx`), the gradient-flow probes
(:mod:`irnn_jax.models.diagnostics`), and the encoder-decoder of the translation task
(:mod:`irnn_jax.models.seq2seq`).

A task names the architecture its model has (``Task.architecture``); :data:`ARCHITECTURES` builds
each from a config's ``model`` section."""

from irnn_jax.models import seq2seq
from irnn_jax.models.linen import (
    CELLS,
    CONFIG_DEFAULTS,
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
from irnn_jax.models.seq2seq import Seq2Seq

# architecture: its builder from (model config section, output_size, vocab_size)
ARCHITECTURES = {"rnn": from_config, "seq2seq": seq2seq.from_config}

__all__ = [
    "ARCHITECTURES",
    "CELLS",
    "CONFIG_DEFAULTS",
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
    "Seq2Seq",
    "StackSpec",
    "State",
    "from_config",
    "last_states",
    "layer_outputs",
    "layer_recurrence",
    "reverse_time",
]
