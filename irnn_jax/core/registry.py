"""Names for the parts a config chooses (tasks, initialisers, optimisers), and how a researcher
adds their own.

A :class:`Registry` maps names to entries. An entry is added with :meth:`Registry.register`
(``tasks.register("my_task", MyTask)``), or named in a config by its import path,
``"package.module:attribute"`` (``--config.task.name=my_pkg.tasks:MyTask``), which imports it
on first use; a run's config then records the name that rebuilds it in a later process.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

Entry = TypeVar("Entry")


class Registry(Generic[Entry]):
    """Named entries of one kind (``kind`` names it in errors), the built-in ones first."""

    def __init__(self, kind: str, builtin: Mapping[str, Entry]) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = dict(builtin)

    def register(self, name: str, entry: Entry | None = None, *, replace: bool = False) -> Entry | Callable:
        """Add ``entry`` under ``name``; without ``entry``, a decorator that adds what it decorates.

        Args:
          name: a new name, not already taken (a name with ``:`` is an import path, not a name).
          entry: what the name gives; ``None`` for the decorator form.
          replace: allow replacing an entry of the same name (a notebook re-running its cell).
            Registering the very same entry again under its name is allowed without it.

        Returns:
          ``entry`` (or the decorator, which registers and returns what it decorates).

        Raises:
          ValueError: for a name taken by another entry (without ``replace``) or a name that is
            not a plain word (empty, not a string, with ``:`` or surrounding whitespace); in the
            decorator form, raised when it decorates.
        """
        if entry is None:
            return lambda decorated: self.register(name, decorated, replace=replace)
        if not isinstance(name, str) or not name or ":" in name or name != name.strip():
            raise ValueError(f"a {self.kind} name must be a non-empty word without ':', got {name!r}")
        if name in self._entries and not replace and self._entries[name] is not entry:
            raise ValueError(f"{self.kind} {name!r} is registered already; pass replace=True to replace it")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> Entry:
        """The entry of ``name``, importing ``"module:attribute"`` names on first use.

        Args:
          name: a registered name or an import path ``'package.module:attribute'`` (remembered
            under that path once imported).

        Returns:
          The registered entry, or the imported attribute.

        Raises:
          ValueError: for an unknown name (listing the known ones) or an import path that does
            not import.
        """
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        if isinstance(name, str) and ":" in name:
            self._entries[name] = _imported(name, self.kind)
            return self._entries[name]
        raise ValueError(
            f"unknown {self.kind} {name!r}; known {self.kind}s: {', '.join(self.names())}, or an "
            "import path 'package.module:attribute' of your own"
        )

    @contextlib.contextmanager
    def scoped(self) -> Iterator[Registry[Entry]]:
        """A block whose registrations (and imported names) are dropped when it ends: for tests,
        and for a notebook trying an entry out.

        Yields:
          This registry; on exit its entries are restored to those it had on entry (replaced
          entries come back too).
        """
        saved = dict(self._entries)
        try:
            yield self
        finally:
            self._entries = saved

    def names(self) -> list[str]:
        """The registered names, sorted (import paths used so far included).

        Returns:
          A new sorted list of the names.
        """
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def _imported(path: str, kind: str) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"{kind} {path!r}: cannot import {module_name!r} ({error})") from None
    if not hasattr(module, attribute):
        raise ValueError(f"{kind} {path!r}: module {module_name!r} has no attribute {attribute!r}")
    return getattr(module, attribute)
