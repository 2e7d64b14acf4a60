"""The shape of a run config: its sections and their fields, and the checked ``train`` section.

:func:`validate` raises one :class:`irnn_jax.errors.ConfigError` (a ``ValueError``) naming a
missing or unknown field or a section of the wrong type. The values are checked where they are
used, by building the run once (:func:`irnn_jax.experiment.build`): a value out of range or an
unknown name (task, cell, initialiser, optimiser, ...) gets the same one-line error from there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import ml_collections

from irnn_jax import checks, errors, models, optim, tasks

Section = (Mapping, ml_collections.ConfigDict)

DIVERGENCE_POLICIES = ("stop", "rollback")


def _fraction(value: Any, name: str) -> float:
    factor = checks.finite_number(value, name)
    if not 0 < factor < 1:
        raise ValueError(f"{name} must be in (0, 1), got {factor}")
    return factor


def _policy(value: Any, name: str) -> str:
    return checks.one_of(value, DIVERGENCE_POLICIES, name)


def _checked(check: Callable[[Any, str], Any]) -> Any:
    """A dataclass field whose config value ``check(value, name)`` accepts and returns."""
    return dataclasses.field(metadata={"check": check})


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """The checked ``train`` section of a config (see :func:`irnn_jax.config.train_section`)."""

    batch_size: int = _checked(checks.positive_int)
    steps: int = _checked(checks.positive_int)
    log_every: int = _checked(checks.positive_int)
    eval_every: int = _checked(checks.positive_int)
    eval_batch_size: int = _checked(checks.positive_int)
    checkpoint_every: int = _checked(checks.positive_int)
    keep_checkpoints: int = _checked(checks.positive_int)
    on_divergence: str = _checked(_policy)
    rollback_lr_factor: float = _checked(_fraction)
    max_rollbacks: int = _checked(checks.non_negative_int)
    diagnostics_every: int = _checked(checks.non_negative_int)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> TrainSettings:
        """Check every field of ``section`` (types and ranges) and return them."""
        return cls(
            **{
                field.name: field.metadata["check"](section[field.name], f"train.{field.name}")
                for field in dataclasses.fields(cls)
            }
        )


TRAIN_FIELDS = tuple(field.name for field in dataclasses.fields(TrainSettings))
SECTIONS = ("seed", "task", "model", "optim", "train")
MODEL_FIELDS = models.CONFIG_FIELDS
OPTIM_FIELDS = optim.CONFIG_FIELDS


def validate(config: Mapping[str, Any]) -> None:
    """Check that ``config`` has the sections ``seed``, ``task``, ``model``, ``optim`` and
    ``train``, each with exactly its fields, and initialisers given as ``{name: ..., **kwargs}``.

    Raises:
      ConfigError: naming the first missing or unknown field or mistyped section.
    """
    with errors.checking_config():
        _expect_fields(config, SECTIONS, "config")
        if checks.non_negative_int(config["seed"], "seed") >= 2**32:
            raise ValueError(f"seed must be below 2**32, got seed={config['seed']}")
        task_config = config["task"]
        if not isinstance(task_config, Section):
            raise TypeError(f"config.task must be a section, got {task_config!r}")
        name = checks.one_of(task_config.get("name"), tasks.TASKS, "task")
        _expect_fields(task_config, ("name", *tasks.TASK_FIELDS[name]), "task")
        _expect_fields(config["model"], MODEL_FIELDS, "model")
        for field in models.INIT_FIELDS:
            spec = config["model"][field]
            if not isinstance(spec, Section) or "name" not in spec:
                raise TypeError(f"model.{field} must be a section {{name: ..., **arguments}}, got {spec!r}")
        _expect_fields(config["optim"], OPTIM_FIELDS, "optim")
        _expect_fields(config["train"], TRAIN_FIELDS, "train")


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
