"""Tasks: data, loss and metrics behind one interface, :class:`irnn_jax.tasks.base.Task`.

Each task is a frozen dataclass whose fields are its config section's fields (besides ``name``),
so :func:`from_config` and :func:`task_fields` read them off the class. A task of your own joins
with :func:`register` or is named by its import path (:mod:`irnn_jax.core.registry`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from irnn_jax.core import registry
from irnn_jax.tasks.adding import AddingProblem
from irnn_jax.tasks.base import Task
from irnn_jax.tasks.language_model import PennTreebank
from irnn_jax.tasks.mnist import PixelMNIST
from irnn_jax.tasks.speech import SpeechFrames
from irnn_jax.tasks.tomita import TomitaTask
from irnn_jax.tasks.translation import Translation

# Every task by name; a researcher's own (a frozen dataclass deriving from Task) join with
# register, or are named by import path (``task.name = "my_pkg.tasks:MyTask"``).
REGISTRY: registry.Registry[type[Task]] = registry.Registry(
    "task",
    {
        "adding": AddingProblem,
        "mnist": PixelMNIST,
        "ptb": PennTreebank,
        "speech": SpeechFrames,
        "tomita": TomitaTask,
        "translation": Translation,
    },
)


def register(name: str, task_class: type[Task] | None = None, *, replace: bool = False) -> type[Task]:
    """Register a task class under ``name`` (usable as a decorator, ``@tasks.register("mine")``).

    Args:
      name: the name configs give as ``task.name``.
      task_class: a frozen dataclass deriving from :class:`Task`; its fields are the config
        section's fields besides ``name``.
      replace: allow replacing a task of the same name.

    Returns:
      ``task_class`` (or, without it, the decorator).

    Raises:
      ValueError: for a ``task_class`` that is not a dataclass deriving from :class:`Task`, a name
        already taken (without ``replace``) or a name that is not a plain word.
    """
    if task_class is None:
        return lambda decorated: register(name, decorated, replace=replace)
    _check_task_class(task_class, name)
    return REGISTRY.register(name, task_class, replace=replace)


def task_class(name: str) -> type[Task]:
    """The task class of ``name`` (registered, packaged, or an import path).

    Args:
      name: a registered task name (e.g. ``'adding'``) or an import path
        ``'package.module:Class'``.

    Returns:
      The task class, a dataclass deriving from :class:`Task`.

    Raises:
      ValueError: for an unknown name, or an import path to something that is not a task class.
    """
    cls = REGISTRY.get(name)
    _check_task_class(cls, name)
    return cls


def task_fields(name: str) -> tuple[str, ...]:
    """The config fields of task ``name`` besides ``name``: its dataclass's fields.

    Args:
      name: a task name or import path, as :func:`task_class` takes it.

    Returns:
      The field names, in declaration order.

    Raises:
      ValueError: as :func:`task_class`.
    """
    return tuple(field.name for field in dataclasses.fields(task_class(name)))


def from_config(task_config: Mapping[str, Any]) -> Task:
    """Build the task a config's ``task`` section names (``name`` plus the task's fields).

    Args:
      task_config: the ``task`` section: ``name`` and every field :func:`task_fields` lists
        (defaults are not filled in; extra keys are ignored).

    Returns:
      The task instance.

    Raises:
      KeyError: for a missing ``name`` or field.
      ValueError: as :func:`task_class`, or for a field value the task rejects (a task's own
        checks may raise ``TypeError`` too).
    """
    name = task_config["name"]
    return task_class(name)(**{field: task_config[field] for field in task_fields(name)})


def _check_task_class(cls: object, name: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Task) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"task {name!r} must be a dataclass deriving from irnn_jax.tasks.Task, got {cls!r}")
