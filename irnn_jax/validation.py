"""Validation of a run config: every field checked, before any data is read or anything compiled.

:func:`validate` raises one :class:`irnn_jax.errors.ConfigError` (a ``ValueError``) whose message
names the field and what it allows, for a missing or unknown field, a wrong type, a value out of
range or an unknown name (task, cell, initialiser, optimiser, ...).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import ml_collections

from irnn_jax import checks, diagnostics, errors, models, optim, tasks

Section = (Mapping, ml_collections.ConfigDict)

DIVERGENCE_POLICIES = ("stop", "rollback")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """The checked ``train`` section of a config (see :func:`irnn_jax.config.train_section`)."""

    batch_size: int
    steps: int
    log_every: int
    eval_every: int
    eval_batch_size: int
    checkpoint_every: int
    keep_checkpoints: int
    on_divergence: str
    rollback_lr_factor: float
    max_rollbacks: int
    diagnostics_every: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> TrainSettings:
        """Check every field of ``section`` (types and ranges) and return them."""
        fields = [field.name for field in dataclasses.fields(cls)]
        integers = {name: checks.positive_int(section[name], f"train.{name}") for name in fields[:7]}
        on_divergence = checks.one_of(section["on_divergence"], DIVERGENCE_POLICIES, "train.on_divergence")
        factor = checks.finite_number(section["rollback_lr_factor"], "train.rollback_lr_factor")
        if not 0 < factor < 1:
            raise ValueError(f"train.rollback_lr_factor must be in (0, 1), got {factor}")
        return cls(
            **integers,
            on_divergence=on_divergence,
            rollback_lr_factor=factor,
            max_rollbacks=checks.non_negative_int(section["max_rollbacks"], "train.max_rollbacks"),
            diagnostics_every=checks.non_negative_int(
                section["diagnostics_every"], "train.diagnostics_every"
            ),
        )


SECTIONS = ("seed", "task", "model", "optim", "train")
MODEL_FIELDS = (
    "cell",
    "hidden_size",
    "layers",
    "bidirectional",
    "forget_bias",
    "projection_size",
    "readout",
    "unroll",
    "recurrent_init",
    "input_init",
    "bias_init",
    "output_init",
    "embed_size",
    "embed_init",
)
OPTIM_FIELDS = ("name", "lr", "momentum", "clip_mode", "clip", "decay_steps")


def validate(config: Mapping[str, Any]) -> None:
    """Check a whole run config (``seed``, ``task``, ``model``, ``optim``, ``train``).

    Raises:
      ConfigError: for the first bad field, with the checks' message (the library's own
        ``ValueError``/``TypeError`` argument checks, raised while checking, are the cause).
    """
    with errors.checking_config():
        _validate(config)


def _validate(config: Mapping[str, Any]) -> None:
    _expect_fields(config, SECTIONS, "config")
    if checks.non_negative_int(config["seed"], "seed") >= 2**32:
        raise ValueError(f"seed must be below 2**32, got seed={config['seed']}")
    task_config = config["task"]
    if not isinstance(task_config, Section):
        raise TypeError(f"config.task must be a section, got {task_config!r}")
    name = checks.one_of(task_config.get("name"), tasks.TASKS, "task")
    _expect_fields(task_config, ("name", *tasks.TASK_FIELDS[name]), "task")
    task = tasks.from_config(task_config)
    _expect_fields(config["model"], MODEL_FIELDS, "model")
    for field in ("recurrent_init", "input_init", "bias_init", "output_init", "embed_init"):
        spec = config["model"][field]
        if not isinstance(spec, Section) or "name" not in spec:
            raise TypeError(f"model.{field} must be a section {{name: ..., **arguments}}, got {spec!r}")
    model = models.from_config(config["model"], 1, getattr(task, "vocab_size", 0))  # resolves initialisers
    _expect_fields(config["optim"], OPTIM_FIELDS, "optim")
    optim.make_optimizer(config["optim"])
    _expect_fields(config["train"], tuple(field.name for field in dataclasses.fields(TrainSettings)), "train")
    if TrainSettings.from_config(config["train"]).diagnostics_every:
        diagnostics.check_supported(model)


def _expect_fields(section: Any, fields: tuple[str, ...], name: str) -> None:
    """Raise unless ``section`` is a mapping with exactly ``fields``."""
    if not isinstance(section, Section):
        raise TypeError(f"{name} must be a section with fields {', '.join(fields)}, got {section!r}")
    missing = [field for field in fields if field not in section]
    if missing:
        raise ValueError(f"{name} is missing field(s) {', '.join(missing)}")
    unknown = [field for field in section.keys() if field not in fields]  # noqa: SIM118 (ConfigDict)
    if unknown:
        raise ValueError(
            f"{name} has unknown field(s) {', '.join(map(str, unknown))}; known: {', '.join(fields)}"
        )
