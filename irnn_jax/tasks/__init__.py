"""Tasks: data, loss and metrics. Each task object provides

- ``output_size`` and either ``input_size`` (features per step) or ``vocab_size`` (inputs are
  token ids, embedded by the model);
- ``batches(split, batch_size, key, start_step)``: ``(inputs, targets)`` iterator, deterministic
  for a given key and step; ``inputs`` is ``[B, T, D]`` (``[B, T]`` ids) or a dict of model
  arguments such as ``{'xs': ..., 'lengths': ...}``;
- ``loss(outputs, targets)`` (a scalar to minimise) and ``metrics(outputs, targets)`` (a dict of
  batch means, with an optional ``count`` that weights the batch when averaging, e.g. real frames);
  ``metric``, the name of the headline metric; ``baseline``, its trivial value;
- optionally ``carries_state`` (the recurrent state runs on from one batch to the next, truncated
  BPTT), ``complete_metrics(means)`` (metrics that need the overall means, e.g. perplexity), and
  ``artifacts()``: arrays a run saves beside its metrics (e.g. MNIST's pixel order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irnn_jax import checks
from irnn_jax.tasks.adding import AddingProblem
from irnn_jax.tasks.language_model import PennTreebank
from irnn_jax.tasks.mnist import PixelMNIST
from irnn_jax.tasks.speech import SpeechFrames
from irnn_jax.tasks.tomita import TomitaTask

Task = AddingProblem | PixelMNIST | PennTreebank | SpeechFrames | TomitaTask

_BUILDERS = {
    "adding": lambda config: AddingProblem(config["seq_len"], config["held_out_size"]),
    "mnist": lambda config: PixelMNIST(
        config["permuted"], config["permutation_seed"], config["normalization"], config["source"]
    ),
    "ptb": lambda config: PennTreebank(config["level"], config["seq_len"], config["carry_state"]),
    "speech": lambda config: SpeechFrames(
        config["dataset"], config["split_seed"], config["valid_fraction"], config["test_fraction"]
    ),
    "tomita": lambda config: TomitaTask(
        config["grammar"],
        config["train_lengths"],
        config["test_lengths"],
        config["held_out_per_length"],
    ),
}
TASKS = tuple(_BUILDERS)
TASK_FIELDS = {
    "adding": ("seq_len", "held_out_size"),
    "mnist": ("permuted", "permutation_seed", "normalization", "source"),
    "ptb": ("level", "seq_len", "carry_state"),
    "speech": ("dataset", "split_seed", "valid_fraction", "test_fraction"),
    "tomita": ("grammar", "train_lengths", "test_lengths", "held_out_per_length"),
}


def from_config(task_config: Mapping[str, Any]) -> Task:
    """Build the task a config's ``task`` section names (``name`` plus the task's fields)."""
    return _BUILDERS[checks.one_of(task_config["name"], TASKS, "task")](task_config)
