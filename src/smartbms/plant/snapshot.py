"""Saving a plant record's state as a frozen value and putting it back, its fields named once.

Many parts of the plant are plain records whose whole state (or a plain part of it) is a few
attributes. Each names them in its snapshot type, a NamedTuple with the same field names in the
same order; `Snapshotted` gives it `save_state` and `load_state`, which read exactly those
attributes into that type and write them back. Nothing is discovered: what is saved is what the
snapshot type lists, explicitly (docs/architecture.md: a snapshot is plain frozen data).
"""

import operator
from collections.abc import Callable
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar, cast

S = TypeVar("S", bound=tuple[Any, ...])


class FieldState:
    """The attributes a snapshot type names, read into it and written back.

    `snapshot` is a NamedTuple type whose fields are the record's attribute names.
    """

    __slots__ = ("_names", "_read", "_type")

    def __init__(self, snapshot: type[NamedTuple]) -> None:
        self._type = snapshot
        self._names: tuple[str, ...] = snapshot._fields
        if len(self._names) < 2:  # attrgetter of one name gives the value, not a tuple
            msg = f"{snapshot.__name__}: a snapshot of one field is that value itself"
            raise ValueError(msg)
        self._read: Callable[[object], tuple[Any, ...]] = operator.attrgetter(*self._names)

    def save(self, record: object) -> tuple[Any, ...]:
        """The record's fields as the snapshot type (a fast path around its `__new__`)."""
        return tuple.__new__(self._type, self._read(record))

    def load(self, record: object, state: tuple[Any, ...]) -> None:
        """Put the fields of `state` back on the record."""
        for name, value in zip(self._names, state, strict=True):
            setattr(record, name, value)


class Snapshotted(Generic[S]):
    """Mixed into a record whose state is the fields of `S`: its `_STATE` names them."""

    __slots__ = ()
    _STATE: ClassVar[FieldState]

    def save_state(self) -> S:
        """Its state, as a frozen value (`load_state` takes it)."""
        return cast(S, self._STATE.save(self))

    def load_state(self, state: S) -> None:
        """Put back what `save_state` gave."""
        self._STATE.load(self, state)
