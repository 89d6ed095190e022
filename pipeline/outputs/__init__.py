"""Outputs: where results go. Each takes result batches and flushes on request.

``OUTPUTS`` maps config names (``"TerminalOutput()"``, ``"FileOutput"``) to classes; each class's
constructor arguments are its ``output_conf`` keys. See ``base.Output`` for the contract.
"""
from pipeline.outputs.base import Output, RunContext
from pipeline.outputs.file import FileOutput
from pipeline.outputs.kafka import KafkaOutput
from pipeline.outputs.memory import MemoryOutput
from pipeline.outputs.terminal import TerminalOutput
from pipeline.registry import Registry

OUTPUTS: Registry[Output] = Registry(
    "output",
    {"TerminalOutput": TerminalOutput, "FileOutput": FileOutput, "KafkaOutput": KafkaOutput,
     "MemoryOutput": MemoryOutput},
)

__all__ = ["OUTPUTS", "Output", "RunContext", "FileOutput", "KafkaOutput", "MemoryOutput", "TerminalOutput"]
