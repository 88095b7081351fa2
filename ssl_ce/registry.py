"""A name -> component table, one per axis (data sources, masks, models, methods, evaluators).

Each table knows the modules that hold its built-in components and the entry-point group through which
installed packages add their own. Both are imported on the first look-up, not when the table is made: a module
can import the table, register into it and read other tables' names at use time, with no import cycle, and
`ssl-ce --help` pays for none of it.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Generic, TypeVar

from ssl_ce.errors import SslCeError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to components so configs, the CLI and the report can refer to them by name."""

    def __init__(self, kind: str, builtins: Sequence[str] = (), entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.builtins = tuple(builtins)
        self.entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = item
            return item

        return decorate

    def unregister(self, name: str) -> None:
        """Forget `name` (tests that register a component take it out again)."""
        self._items.pop(name, None)

    def load(self) -> None:
        """Imports the built-in modules (they register themselves), then the installed plug-ins, once."""
        if self._loaded:
            return
        self._loaded = True  # first, so a built-in module that looks names up while importing does not recurse
        try:
            for module in self.builtins:
                importlib.import_module(module)
        except BaseException:
            self._loaded = False  # a failed import is raised again at the next look-up, not read as an unknown name
            raise
        if self.entry_point_group:
            self._load_plugins(self.entry_point_group)

    def reload_plugins(self) -> None:
        """Looks at the installed entry points again (a package installed after the first look-up)."""
        self.load()
        if self.entry_point_group:
            self._load_plugins(self.entry_point_group)

    def _load_plugins(self, group: str) -> None:
        """An entry point names a module (which registers itself on import) or one component (registered
        under the entry point's name). A broken plug-in is a warning: it must not take the built-ins down."""
        for entry in entry_points(group=group):
            if entry.name in self._items:
                continue
            try:
                loaded: Any = entry.load()
            except Exception as exc:  # noqa: BLE001 (whatever a third-party import raises)
                warnings.warn(f"{self.kind} plug-in {entry.name!r} failed to load: {exc}", stacklevel=2)
                continue
            if not isinstance(loaded, ModuleType):
                self.register(entry.name)(loaded)

    def get(self, name: str) -> T:
        self.load()
        try:
            return self._items[name]
        except KeyError:
            raise SslCeError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        """Registration order: the built-ins in the order their modules list them, then plug-ins."""
        self.load()
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        self.load()
        return list(self._items.items())

    def __contains__(self, name: str) -> bool:
        self.load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
