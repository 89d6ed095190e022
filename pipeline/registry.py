"""Name -> class registries, one per kind of component (consumers, detectors, outputs, views).

Names are part of the config format. Resolution accepts the original project's spellings: a
trailing ``()`` (``"BorderCheck()"``), surrounding spaces, and the aliases it used
(``"border_check"``). Nothing is ever evaluated. Renaming a component needs an alias.
"""
from __future__ import annotations

from typing import Generic, Iterable, TypeVar

T = TypeVar("T")


class UnknownComponentError(KeyError):
    """A name that is in no registry; the message lists the known names."""

    def __init__(self, kind: str, name: object, known: Iterable[str]):
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known)}")

    def __str__(self) -> str:
        return self.args[0]


def canonical_spelling(name: str) -> str:
    """``" BorderCheck() "`` -> ``"BorderCheck"``."""
    name = name.strip()
    if name.endswith("()"):
        name = name[:-2].rstrip()
    return name


class Registry(Generic[T]):
    """Maps config names (and aliases) to classes of one kind."""

    def __init__(self, kind: str, classes: dict[str, type[T]], aliases: dict[str, str] | None = None):
        self.kind = kind
        self.classes = dict(classes)
        self.aliases = dict(aliases or {})
        unknown_targets = set(self.aliases.values()) - set(self.classes)
        if unknown_targets:
            raise ValueError(f"aliases point to unregistered names: {unknown_targets}")

    def canonical_name(self, name: object) -> str:
        """The registered name that ``name`` (any accepted spelling) stands for."""
        if not isinstance(name, str):
            raise UnknownComponentError(self.kind, name, self.classes)
        spelled = canonical_spelling(name)
        if spelled in self.classes:
            return spelled
        if spelled in self.aliases:
            return self.aliases[spelled]
        raise UnknownComponentError(self.kind, name, self.classes)

    def resolve(self, name: object) -> type[T]:
        return self.classes[self.canonical_name(name)]

    def __contains__(self, name: object) -> bool:
        try:
            self.canonical_name(name)
        except UnknownComponentError:
            return False
        return True

    def names(self) -> list[str]:
        return sorted(self.classes)
