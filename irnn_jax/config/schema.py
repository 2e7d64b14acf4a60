"""The one schema of a run config: its sections, each section's fields with their defaults and
checks, read off one dataclass per section (the task's off its dataclass, the model's off
:class:`irnn_jax.models.RNNModel`, ``optim`` and ``train`` off :class:`OptimSettings` and
:class:`TrainSettings` here). Validation, the defaults a config may leave out, the fields a
resumed run may change and the packaged configs' sections are all derived from them.

:func:`validate` raises one :class:`irnn_jax.core.errors.ConfigError` (a ``ValueError``) naming
a missing or unknown field or a section of the wrong type. The values are checked where they are
used, by building the run once (:func:`irnn_jax.training.parts.build`): a value out of
range or an unknown name (task, cell, initialiser, optimiser, ...) gets the same one-line error
from there.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import ml_collections

from irnn_jax import models, tasks
from irnn_jax.core import checks, errors, optimizers

Section = (Mapping, ml_collections.ConfigDict)
SECTIONS = ("seed", "task", "model", "optim", "train")
DIVERGENCE_POLICIES = ("stop", "rollback")
CLIP_MODES = ("global_norm", "value", "none")


def _setting(
    check: Callable[[Any, str], Any], default: Any = dataclasses.MISSING, *, resumable: bool = False
) -> Any:
    """A field whose config value ``check(value, name)`` accepts and returns; without a default the
    field is required; a ``resumable`` field may change when a run resumes."""
    return dataclasses.field(default=default, metadata={"check": check, "resumable": resumable})


def _fraction(value: Any, name: str) -> float:
    factor = checks.finite_number(value, name)
    if not 0 < factor < 1:
        raise ValueError(f"{name} must be in (0, 1), got {factor}")
    return factor


def _positive_number(value: Any, name: str) -> float:
    number = checks.finite_number(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {name}={number}")
    return number


def _momentum(value: Any, name: str) -> float:
    momentum = checks.finite_number(value, name)
    if not 0 <= momentum < 1:
        raise ValueError(f"{name} must be in [0, 1), got {momentum}")
    return momentum


def _metric_name(value: Any, name: str) -> str | None:
    if value is not None and not (isinstance(value, str) and value.isidentifier()):
        raise ValueError(f"{name} must be a metric's name (such as 'accuracy') or None, got {name}={value!r}")
    return value


def _optimizer_name(value: Any, name: str) -> str:
    with checks.about(name):
        optimizers.REGISTRY.get(value)  # raises for a name it does not know or cannot import
    return value


def _decay_steps(value: Any, name: str) -> int:
    if value is None:
        raise ValueError(
            f"{name}=None (decay over train.steps) needs the train section: build the run from a whole "
            "config, or give the number of steps"
        )
    return value if value == 0 and isinstance(value, int) else checks.positive_int(value, name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """A checked config section: a subclass's fields are the section's fields."""

    SECTION: ClassVar[str]

    @classmethod
    def required(cls) -> tuple[str, ...]:
        """The fields a config must give.

        Returns:
          The names of the fields without a default, in order.
        """
        return tuple(field.name for field in dataclasses.fields(cls) if field.default is dataclasses.MISSING)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The value of every field a config may leave out.

        Returns:
          ``{field: default}`` of the fields with a default, in order.
        """
        return {
            field.name: field.default
            for field in dataclasses.fields(cls)
            if field.default is not dataclasses.MISSING
        }

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Settings:
        """Check every field of ``section`` (types and ranges; defaults where it has none).

        Args:
          section: the config section, a mapping or ``ConfigDict``.

        Returns:
          The settings, each field's value as its check returned it.

        Raises:
          TypeError: if ``section`` is not a section, or for a value of the wrong type.
          ValueError: for a missing required field, an unknown field, or a value out of range
            (plain errors: :func:`irnn_jax.core.errors.checking_config` turns them into
            ``ConfigError``).
        """
        _expect_fields(section, cls.required(), fields_of(cls), cls.SECTION)
        values = {**cls.defaults(), **section}
        return cls(
            **{
                field.name: field.metadata["check"](values[field.name], f"{cls.SECTION}.{field.name}")
                for field in dataclasses.fields(cls)
            }
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainSettings(Settings):
    """The ``train`` section: batch size, step budget, how often to log, evaluate and checkpoint,
    and what to do on divergence (stop, or roll back to the last checkpoint with a lower rate)."""

    SECTION: ClassVar[str] = "train"

    batch_size: int = _setting(checks.positive_int)
    steps: int = _setting(checks.positive_int, resumable=True)
    log_every: int = _setting(checks.positive_int, 100, resumable=True)
    eval_every: int = _setting(checks.positive_int, resumable=True)
    eval_batch_size: int = _setting(checks.positive_int, 1000, resumable=True)
    checkpoint_every: int = _setting(checks.positive_int, resumable=True)
    keep_checkpoints: int = _setting(checks.positive_int, 3, resumable=True)
    on_divergence: str = _setting(
        lambda value, name: checks.one_of(value, DIVERGENCE_POLICIES, name), "stop", resumable=True
    )
    rollback_lr_factor: float = _setting(_fraction, 0.5, resumable=True)
    max_rollbacks: int = _setting(checks.non_negative_int, 3, resumable=True)
    # > 0: diagnostics.jsonl (||dL/dh_t||, w_hh spectrum) every that many steps
    diagnostics_every: int = _setting(checks.non_negative_int, 0, resumable=True)
    # a held-out metric (``accuracy``, ``mse``, ...): keep the checkpoint of its best validation
    # value in <workdir>/best/ (the better direction: irnn_jax.tasks.base.higher_is_better)
    keep_best: str | None = _setting(_metric_name, None)
    # > 0: stop once that many held-out evaluations in a row bring no better validation value of
    # keep_best's metric (the task's headline metric without keep_best)
    early_stopping_patience: int = _setting(checks.non_negative_int, 0, resumable=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class OptimSettings(Settings):
    """The ``optim`` section: the optimiser (``sgd``, ``adam``, ``rmsprop``, or one of
    :mod:`irnn_jax.core.optimizers`' registered or imported ones) and its rate,
    SGD's momentum, gradient clipping (by global norm, by value, or none) and an optional cosine
    decay of the updates to zero at ``decay_steps``."""

    SECTION: ClassVar[str] = "optim"

    name: str = _setting(_optimizer_name)
    lr: float = _setting(_positive_number)
    momentum: float = _setting(_momentum, 0.0)
    clip_mode: str = _setting(lambda value, name: checks.one_of(value, CLIP_MODES, name), "none")
    clip: float = _setting(checks.finite_number, 1.0)
    # 0: no decay; None: to zero at train.steps (resolved by complete); N: to zero at step N
    decay_steps: int | None = _setting(_decay_steps, 0)

    def __post_init__(self) -> None:
        if self.clip_mode != "none" and self.clip <= 0:
            raise ValueError(f"optim.clip must be > 0 with clip_mode={self.clip_mode!r}, got {self.clip}")


def fields_of(settings: type[Settings]) -> tuple[str, ...]:
    """The field names of a section's settings, in order.

    Args:
      settings: a :class:`Settings` subclass (or instance).

    Returns:
      The names of its dataclass fields.
    """
    return tuple(field.name for field in dataclasses.fields(settings))


TRAIN_FIELDS = fields_of(TrainSettings)
OPTIM_FIELDS = fields_of(OptimSettings)
MODEL_FIELDS = models.CONFIG_FIELDS
# Fields a resumed run may change: how long it runs and how it logs, evaluates, checkpoints and
# handles divergence. Everything else must equal the recorded config.
RESUMABLE_FIELDS = tuple(
    f"train.{field.name}" for field in dataclasses.fields(TrainSettings) if field.metadata["resumable"]
)


def model_defaults() -> dict[str, Any]:
    """The default of every ``model`` field but the initialisers: :class:`irnn_jax.models.RNNModel`'s.

    Returns:
      A new ``{field: default}`` dict (``models.CONFIG_DEFAULTS``).
    """
    return dict(models.CONFIG_DEFAULTS)


_DEFAULTS = {"model": model_defaults, "optim": OptimSettings.defaults, "train": TrainSettings.defaults}


def complete(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` (plain dicts) with the default of every field it leaves out (of the
    ``model``, ``optim`` and ``train`` sections) and ``optim.decay_steps=None`` resolved to
    ``train.steps``: what a run records, and what a config recorded before a field existed reads
    as (the field's default does what the run did without it).

    Args:
      config: a config, a ``ConfigDict`` or a mapping; sections that are not mappings are left
        as they are.

    Returns:
      The completed deep copy; ``config`` is not changed.
    """
    completed = copy.deepcopy(
        config.to_dict() if isinstance(config, ml_collections.ConfigDict) else dict(config)
    )
    for name, defaults in _DEFAULTS.items():
        section = completed.get(name)
        if isinstance(section, Section):
            completed[name] = {**defaults(), **section}
    optim, train = completed.get("optim"), completed.get("train")
    if (
        isinstance(optim, dict)
        and optim["decay_steps"] is None
        and isinstance(train, dict)
        and "steps" in train
    ):
        optim["decay_steps"] = train["steps"]  # the decay follows the budget; recorded as a number
    return completed


def schedule_note(config: Mapping[str, Any]) -> str | None:
    """A warning for a (completed) config whose cosine decay reaches zero before its last step
    (every update after that is zero), or ``None``.

    Args:
      config: a completed config (:func:`complete`), with a numeric ``optim.decay_steps``.

    Returns:
      The one-line warning when ``0 < optim.decay_steps < train.steps``, else ``None``.
    """
    decay_steps, steps = config["optim"]["decay_steps"], config["train"]["steps"]
    if not 0 < decay_steps < steps:
        return None
    return (
        f"optim.decay_steps={decay_steps} ends the cosine decay at step {decay_steps} of "
        f"train.steps={steps}: every update after it is zero (--config.optim.decay_steps=None "
        "makes the decay follow train.steps)"
    )


def train_section(batch_size: int, steps: int, eval_every: int, **fields: Any) -> ml_collections.ConfigDict:
    """A whole ``train`` section: :class:`TrainSettings`' defaults, checkpoints at every
    evaluation, and ``fields`` (any other field of the section) over them.

    Args:
      batch_size: ``train.batch_size``.
      steps: ``train.steps``.
      eval_every: ``train.eval_every``, also ``train.checkpoint_every`` unless ``fields`` sets it.
      **fields: any other field of the section (values checked when the run is built).

    Returns:
      The section.

    Raises:
      ConfigError: for a name in ``fields`` that is not a field of the section.
    """
    unknown = set(fields) - set(TRAIN_FIELDS)
    if unknown:
        raise errors.ConfigError(
            f"unknown train field(s) {', '.join(sorted(unknown))}; known: {', '.join(TRAIN_FIELDS)}"
        )
    given = {
        "batch_size": batch_size,
        "steps": steps,
        "eval_every": eval_every,
        "checkpoint_every": eval_every,
    }
    return ml_collections.ConfigDict({**TrainSettings.defaults(), **given, **fields})


def paper_optim(lr: float, clip: float) -> ml_collections.ConfigDict:
    """The ``optim`` section of the papers' protocol: plain SGD, clipping by global norm.

    Args:
      lr: the learning rate, ``optim.lr``.
      clip: the global-norm threshold, ``optim.clip``.

    Returns:
      The section, :class:`OptimSettings`' defaults otherwise (no momentum, no decay).
    """
    return ml_collections.ConfigDict(
        {**OptimSettings.defaults(), "name": "sgd", "lr": lr, "clip_mode": "global_norm", "clip": clip}
    )


def validate(config: Mapping[str, Any]) -> None:
    """Check that ``config`` has the sections ``seed``, ``task``, ``model``, ``optim`` and
    ``train``, each with its required fields and no unknown ones, and initialisers given as
    ``{name: ..., **kwargs}``.

    Also checks that ``seed`` is an int in ``[0, 2**32)`` and that the task's name is known;
    other values are checked when the run is built.

    Args:
      config: the config, a ``ConfigDict`` or a mapping.

    Raises:
      ConfigError: naming the first missing or unknown field, mistyped section (as
        ``ConfigTypeError``), bad seed or unknown task.
    """
    with errors.checking_config():
        _expect_fields(config, SECTIONS, SECTIONS, "config")
        if checks.non_negative_int(config["seed"], "seed") >= 2**32:
            raise ValueError(f"seed must be below 2**32, got seed={config['seed']}")
        task_config = config["task"]
        if not isinstance(task_config, Section):
            raise TypeError(f"config.task must be a section, got {task_config!r}")
        with checks.about("task.name"):
            task_fields = ("name", *tasks.task_fields(task_config.get("name")))
        _expect_fields(task_config, task_fields, task_fields, "task")
        model_required = tuple(field for field in MODEL_FIELDS if field not in model_defaults())
        _expect_fields(config["model"], model_required, MODEL_FIELDS, "model")
        for field in models.INIT_FIELDS:
            spec = config["model"][field]
            if not isinstance(spec, Section) or "name" not in spec:
                raise TypeError(f"model.{field} must be a section {{name: ..., **arguments}}, got {spec!r}")
        _expect_fields(config["optim"], OptimSettings.required(), OPTIM_FIELDS, "optim")
        _expect_fields(config["train"], TrainSettings.required(), TRAIN_FIELDS, "train")


def _expect_fields(section: Any, required: tuple[str, ...], known: tuple[str, ...], name: str) -> None:
    """Raise unless ``section`` is a mapping with every ``required`` field and only ``known`` ones."""
    if not isinstance(section, Section):
        raise TypeError(f"{name} must be a section with fields {', '.join(known)}, got {section!r}")
    missing = [field for field in required if field not in section]
    if missing:
        raise ValueError(f"{name} is missing field(s) {', '.join(missing)}")
    unknown = [field for field in section.keys() if field not in known]  # noqa: SIM118 (ConfigDict)
    if unknown:
        raise ValueError(
            f"{name} has unknown field(s) {', '.join(map(str, unknown))}; known: {', '.join(known)}"
        )
