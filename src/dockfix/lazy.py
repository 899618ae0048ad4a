"""`cached_property` without a lock.

Python 3.11's functools.cached_property takes a lock on each first read of each
instance (removed in 3.12): dockfix reads cached properties of every instruction,
command and stage it makes, tens of thousands a file in a batch, and the lock was
about a fiftieth of a `--check`. dockfix computes them in one thread, and what
they compute depends only on the instance (a second computation would give the
same value), so no lock is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 - a drop-in for functools.cached_property
    """Computed on first read, then kept in the instance's __dict__ (which later reads find first)."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> cached_property[T]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type[Any] | None = None) -> T | cached_property[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value
