"""Registries: the one place where a new kind of strategy, regime or event is added.

Each registered class carries a ``name`` and a pydantic ``Params`` model; scenario validation
checks a name against the registry and its parameters against ``Params`` (unknown keys are errors).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Params(BaseModel):
    """Base of every kind's parameters: strict (unknown keys are errors), immutable, and finite
    (``inf`` and ``nan`` are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class Registry(Generic[T]):
    """Named classes of one kind (``"strategy"``, ``"regime"``, ``"event"``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        """Class decorator: add ``cls`` under its ``name``."""
        name = cls.name  # type: ignore[attr-defined]
        if name in self._items:
            raise RuntimeError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = cls
        return cls

    def get(self, name: str) -> type[T]:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items))
            raise ValueError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def params(self, name: str, raw: dict[str, Any]) -> Params:
        """Validate ``raw`` against the parameters of the kind called ``name``."""
        return self.get(name).Params.model_validate(raw)  # type: ignore[attr-defined]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __iter__(self) -> Iterator[type[T]]:
        return iter(self._items[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._items
