"""Example parameters of every registered detector, shared by the conformance suite and the
detector benchmark.

name -> (parameters, minimal ROC AUC of ``score`` on the conformance spiked stream, samples for
the flat-memory test). Statistical detectors must reach 0.9; model-based ones more than 0.5.
The suite starts every detector with a context whose ``train_data`` (any name) reads 2000 clean
samples of the test signal, and whose models folder is temporary.
"""
from __future__ import annotations

EXAMPLES: dict[str, tuple[dict, float, int]] = {
    "BorderCheck": ({"UL": 3.0, "LL": -3.0, "warning_stages": [0.8]}, 0.9, 1_000_000),
    "EMA": ({"UL": 2.0, "LL": -2.0, "N": 2, "warning_stages": [0.8]}, 0.9, 1_000_000),
    "Welford": ({"X": 3.0, "N": 50, "warning_stages": [0.8]}, 0.9, 1_000_000),
}

