"""A name -> factory table, one per axis (datasets, masks, models, methods)."""

from collections.abc import Callable
from typing import Generic, TypeVar

from ssl_ce.errors import SslCeError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories so configs can refer to components by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = item
            return item

        return decorate

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise SslCeError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
