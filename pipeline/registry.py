"""Name -> class registries, one per kind of component (detectors, normalizers, outputs, views).

Names are part of the config format. Resolution accepts the original project's spellings: a
trailing ``()`` (``"BorderCheck()"``), surrounding spaces, and the aliases it used
(``"border_check"``). Nothing is ever evaluated. Renaming a component needs an alias.

A registry maps a name to a class or to where the class lives (``"package.module:Class"``); the
module is imported when the name is first resolved, so a run loads only the components it uses
(and their libraries: scipy, scikit-learn, numba), not every component there is.
"""
from __future__ import annotations

import importlib
from typing import Generic, Iterable, TypeVar, Union

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

    def __init__(self, kind: str, classes: dict[str, Union[type[T], str]], aliases: dict[str, str] | None = None):
        self.kind = kind
        self.classes = dict(classes)  # a class, or "module:Class" until first resolved
        self.aliases = dict(aliases or {})
        unknown_targets = set(self.aliases.values()) - set(self.classes)
        if unknown_targets:
            raise ValueError(f"aliases point to unregistered names: {unknown_targets}")
        for name, target in self.classes.items():
            if isinstance(target, str) and target.count(":") != 1:
                raise ValueError(f"{kind} {name!r}: expected 'module:Class', got {target!r}")

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
        """The class ``name`` stands for, importing its module on first use."""
        canonical = self.canonical_name(name)
        target = self.classes[canonical]
        if isinstance(target, str):
            module, _, attribute = target.partition(":")
            target = self.classes[canonical] = getattr(importlib.import_module(module), attribute)
        return target

    def is_loaded(self, name: object) -> bool:
        """Whether the class of ``name`` has been imported already (tests of lazy loading)."""
        return not isinstance(self.classes[self.canonical_name(name)], str)

    def __contains__(self, name: object) -> bool:
        try:
            self.canonical_name(name)
        except UnknownComponentError:
            return False
        return True

    def names(self) -> list[str]:
        return sorted(self.classes)
