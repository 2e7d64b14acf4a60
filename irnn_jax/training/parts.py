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
from irnn_jax.core import checks, errors
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
    model: models.RNNModel | models.Seq2Seq
    optimizer: optax.GradientTransformation
    settings: schema.TrainSettings

    def train_step(self) -> steps.TrainStep:
        """The pure training step of this run (not jitted).

        Returns:
          ``train_step(state, batch) -> (state, metrics)``: one optimizer update of the task's
          loss on ``batch``, with the task's metrics and the update's norms.
        """
        return steps.make_train_step(self.model.apply, self.task.loss_and_metrics, self.optimizer)

    def eval_step(self) -> steps.EvalStep:
        """The pure held-out step of this run (not jitted).

        Returns:
          ``eval_step(params, batch, carry) -> (metrics, carry)``: the task's metrics on
          ``batch``, and the state carried to the next batch for a task that carries state.
        """
        return steps.make_eval_step(self.model.apply, self.task.metrics)

    def keys(self) -> tuple[jax.Array, jax.Array]:
        """The run's two random keys, split from the config's ``seed``.

        Returns:
          ``(init_key, data_key)``: the parameters' draw and the training batches' stream (batch
          ``step`` is a pure function of ``data_key`` and ``step``).
        """
        init_key, data_key = jax.random.split(jax.random.PRNGKey(self.config["seed"]))
        return init_key, data_key

    def init_state(self, key: jax.Array, example_inputs: steps.Inputs) -> steps.TrainState:
        """A fresh training state for this run.

        Args:
          key: the parameters' random key (``keys()[0]``).
          example_inputs: a batch of inputs; only its shapes and dtypes are used.

        Returns:
          A :class:`irnn_jax.training.steps.TrainState` at step 0: the parameters drawn from
          ``key``, the optimizer's initial state, and a zero carry for a task that carries state.
        """
        return steps.create_train_state(
            self.model, self.optimizer, key, example_inputs, self.task.carries_state
        )

    def check_memory(self, key: jax.Array, batch: steps.Batch, runs: int = 1) -> None:
        """Refuse a run that cannot fit the device's memory, before allocating any.

        Args:
          key: a random key for the abstract parameter draw (nothing is allocated).
          batch: an ``(inputs, targets)`` training batch; its shapes size the stored activations.
          runs: how many runs train side by side (a vmapped sweep), each with its own state.

        Raises:
          ConfigError: the ``runs`` training states and activations need more than the device
            has (:mod:`irnn_jax.training.memory`); the message names the bytes and the settings
            (``model.hidden_size``, ``train.batch_size``) to lower.
        """
        inputs, targets = batch
        needed = memory.training_bytes(
            lambda: steps.create_train_state(self.model, self.optimizer, key, inputs),
            lambda params: self.task.loss(steps.apply_model(self.model.apply, params, inputs)[0], targets),
        )
        settings = f"model.hidden_size={self.model.hidden_size}, train.batch_size={self.settings.batch_size}"
        memory.check_fits(needed, settings, runs)


def build(config: Mapping[str, Any]) -> RunParts:
    """Check ``config`` and build its run; every part is built (and so checked) once.

    Args:
      config: a run's config (``ml_collections.ConfigDict`` or mapping) with the ``task``,
        ``model``, ``optim`` and ``train`` sections and ``seed``; fields it lacks take their
        defaults (:func:`irnn_jax.config.complete`).

    Returns:
      The :class:`RunParts`: the completed config, the task, the model, the optimizer and the
      checked ``train`` settings.

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
        architecture = checks.one_of(task.architecture, tuple(models.ARCHITECTURES), "task architecture")
        model = models.ARCHITECTURES[architecture](config["model"], output_size, vocab_size)
        optimizer = optim.make_optimizer(config["optim"])
        settings = schema.TrainSettings.from_config(config["train"])
        if settings.diagnostics_every:
            diagnostics.check_supported(model)
    return RunParts(config, task, model, optimizer, settings)
