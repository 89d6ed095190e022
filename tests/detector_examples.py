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
    "Filtering": ({"mode": 1, "filter_order": 3, "cutoff_frequency": 0.1, "UL": 1.0, "LL": -1.0,
                   "warning_stages": [0.8]}, 0.9, 1_000_000),
    "Hampel": ({"W": 5, "K": 1.4826, "n_sigmas": 3.0}, 0.9, 1_000_000),
    "LinearFit": ({"UL": 1.0, "LL": -1.0, "N": 3, "confidence_norm": 10.0, "warning_stages": [0.8]}, 0.9, 1_000_000),
    "MACD": ({"period1": 1, "period2": 20, "UL": 1.5, "LL": -1.5, "warning_stages": [0.8]}, 0.9, 1_000_000),
    "Cumulative": ({"decay": 0.9, "averaging": 5, "warning_stages": [0.8]}, 0.9, 1_000_000),
    "EMA_Percentile": ({"percentile": 99, "window": 201, "start_on": 50, "period": 1}, 0.9, 200_000),
    "Percentile": ({"percentile_range": [1, 99], "buff_size": 201}, 0.9, 200_000),
    "Combination": ({"anomaly_algorithms": ["BorderCheck()", "Welford()"],
                     "anomaly_algorithms_configurations": [
                         {"input_vector_size": 1, "UL": 3.0, "LL": -3.0},
                         {"input_vector_size": 1, "X": 3.0, "N": 50}],
                     "status_determiner": "OR()", "status_determiner_conf": {}}, 0.9, 1_000_000),
}

