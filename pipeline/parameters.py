"""Components configured by their constructor: the shared ``params()`` and the parameter error.

Every configurable kind (detectors, normalizers, outputs, views) takes its config keys as
constructor arguments, annotated with their types and ``pydantic.Field`` descriptions; the config
validator builds its checks from that signature. ``Configurable`` keeps each argument under an
attribute of the same name, so ``params()`` is one mechanism for every kind:
``type(c)(**c.params())`` rebuilds ``c`` (the run does this for each new stream key).
"""
from __future__ import annotations

import inspect
from typing import Any


class ParameterError(ValueError):
    """A parameter value that passed type checks but makes no sense (names the key)."""

    def __init__(self, key: str, value: Any, expected: str):
        super().__init__(f"{key}: expected {expected}, got {value!r}")
        self.key = key
        self.value = value
        self.expected = expected


class Configurable:
    """Base of the configurable kinds: ``params()`` returns the constructor arguments as given.

    A subclass stores each constructor argument, as given, as an attribute of the same name (a
    test rebuilds every registered component from its ``params()``).
    """

    @classmethod
    def parameter_names(cls) -> list[str]:
        return [name for name, p in inspect.signature(cls.__init__).parameters.items()
                if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def params(self) -> dict[str, Any]:
        """The constructor arguments, as given: ``type(c)(**c.params())`` rebuilds ``c``."""
        return {name: getattr(self, name) for name in self.parameter_names()}
