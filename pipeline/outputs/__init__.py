"""Outputs: where results go. Each takes result batches and flushes on request.

``OUTPUTS`` maps config names (``"TerminalOutput()"``, ``"FileOutput"``) to classes, imported when
first named; each class's constructor arguments are its ``output_conf`` keys. See ``base.Output``
for the contract. ``memory.MemoryOutput`` (results kept in memory, for tests and embedding) is
deliberately not a config name: on an endless stream it would grow without bound.
"""
from pipeline.outputs.base import Output, RunContext
from pipeline.registry import Registry

OUTPUTS: Registry[Output] = Registry("output", {
    "TerminalOutput": "pipeline.outputs.terminal:TerminalOutput",
    "FileOutput": "pipeline.outputs.file:FileOutput",
    "KafkaOutput": "pipeline.outputs.kafka:KafkaOutput",
})

__all__ = ["OUTPUTS", "Output", "RunContext"]
