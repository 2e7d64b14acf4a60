"""A config turned into a run, built and checked once: the task, the model, the optimiser and the
training settings, for :func:`irnn_jax.training.train.fit`, :func:`irnn_jax.training.sweep.fit`
and the benchmarks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import ml_collections
import optax

from irnn_jax import models, tasks
from irnn_jax.config import schema
from irnn_jax.core import errors
from irnn_jax.models import diagnostics
from irnn_jax.training import memory, optim, steps


@dataclasses.dataclass(frozen=True)
class RunParts:
    """The parts of a run that a config describes.

    Attributes:
      config: the config it was built from.
      task: the task (:class:`irnn_jax.tasks.Task`).
      model: the Flax model, sized for the task.
      optimizer: the optax chain, with ``learning_rate`` and ``clip`` injected.
      settings: the checked ``train`` section.
    """

    config: Mapping[str, Any]
    task: tasks.Task
    model: models.RNNModel
    optimizer: optax.GradientTransformation
    settings: schema.TrainSettings

    def train_step(self) -> steps.TrainStep:
        """The pure ``train_step(state, batch) -> (state, metrics)`` of this run (not jitted)."""
        return steps.make_train_step(self.model.apply, self.task.loss, self.task.metrics, self.optimizer)

    def eval_step(self) -> steps.EvalStep:
        """The pure ``eval_step(params, batch, carry) -> (metrics, carry)`` (not jitted)."""
        return steps.make_eval_step(self.model.apply, self.task.metrics)

    def keys(self) -> tuple[jax.Array, jax.Array]:
        """``(init_key, data_key)`` from the config's seed: the parameters' draw and the training
        batches' stream (batch ``step`` is a pure function of ``data_key`` and ``step``)."""
        init_key, data_key = jax.random.split(jax.random.PRNGKey(self.config["seed"]))
        return init_key, data_key

    def init_state(self, key: jax.Array, example_inputs: steps.Inputs) -> steps.TrainState:
        """A fresh :class:`irnn_jax.training.steps.TrainState` drawn from ``key`` for inputs shaped like
        ``example_inputs`` (with a zero carry for a task that carries state)."""
        return steps.create_train_state(
            self.model, self.optimizer, key, example_inputs, self.task.carries_state
        )

    def check_memory(self, key: jax.Array, batch: steps.Batch, runs: int = 1) -> None:
        """Refuse (``ConfigError``) a run whose ``runs`` training states and stored activations on
        ``batch`` cannot fit the device's memory (:mod:`irnn_jax.training.memory`), before allocating any."""
        inputs, targets = batch
        needed = memory.training_bytes(
            lambda: steps.create_train_state(self.model, self.optimizer, key, inputs),
            lambda params: self.task.loss(steps.apply_model(self.model.apply, params, inputs)[0], targets),
        )
        settings = f"model.hidden_size={self.model.hidden_size}, train.batch_size={self.settings.batch_size}"
        memory.check_fits(needed, settings, runs)


def build(config: Mapping[str, Any]) -> RunParts:
    """Check ``config`` and build its run; every part is built (and so checked) once.

    Raises:
      ConfigError: naming the first bad field and what it allows (a missing or unknown field, a
        wrong type, a value out of range, an unknown name).
      DataError: the task's data could not be read (a task whose sizes come from its data).
    """
    schema.validate(config)
    config = ml_collections.ConfigDict(schema.complete(config))
    with errors.checking_config():
        task = tasks.from_config(config["task"])
    output_size, vocab_size = task.output_size, task.vocab_size  # may read the task's data
    with errors.checking_config():
        model = models.from_config(config["model"], output_size, vocab_size)
        optimizer = optim.make_optimizer(config["optim"])
        settings = schema.TrainSettings.from_config(config["train"])
        if settings.diagnostics_every:
            diagnostics.check_supported(model)
    return RunParts(config, task, model, optimizer, settings)
