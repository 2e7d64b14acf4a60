"""Tasks: data, loss and metrics behind one interface, :class:`irnn_jax.tasks.base.Task`.

Each task is a frozen dataclass whose fields are its config section's fields (besides ``name``),
so :func:`from_config` and :data:`TASK_FIELDS` read them off the class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from irnn_jax.core import checks
from irnn_jax.tasks.adding import AddingProblem
from irnn_jax.tasks.base import Task
from irnn_jax.tasks.language_model import PennTreebank
from irnn_jax.tasks.mnist import PixelMNIST
from irnn_jax.tasks.speech import SpeechFrames
from irnn_jax.tasks.tomita import TomitaTask

_CLASSES: dict[str, type[Task]] = {
    "adding": AddingProblem,
    "mnist": PixelMNIST,
    "ptb": PennTreebank,
    "speech": SpeechFrames,
    "tomita": TomitaTask,
}
TASKS = tuple(_CLASSES)
TASK_FIELDS = {name: tuple(field.name for field in dataclasses.fields(cls)) for name, cls in _CLASSES.items()}


def from_config(task_config: Mapping[str, Any]) -> Task:
    """Build the task a config's ``task`` section names (``name`` plus the task's fields)."""
    name = checks.one_of(task_config["name"], TASKS, "task")
    return _CLASSES[name](**{field: task_config[field] for field in TASK_FIELDS[name]})
