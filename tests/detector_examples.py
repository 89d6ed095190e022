"""Example parameters of every registered detector, shared by the conformance suite and the
detector benchmark.

name -> (parameters, minimal ROC AUC of ``score`` on the conformance spiked stream, samples for
the flat-memory test). Statistical detectors must reach 0.9, model-based ones more than 0.5
(TrendClassification looks for trends, not spikes; fb_Prophet forecasts). Slow detectors use
fewer samples for the memory test.
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
    "IsolationForest": ({"train_conf": {"max_samples": 256}, "train_data": "train.csv", "retrain_interval": 20000,
                         "samples_for_retrain": 2000}, 0.9, 20_000),
    "PCA": ({"train_conf": {"N_components": 1, "max_samples": 256}, "train_data": "train.csv",
             "retrain_interval": 20000, "samples_for_retrain": 2000}, 0.9, 20_000),
    "Clustering": ({"eps": 0.3, "min_samples": 5, "treshold": 0.3, "train_data": "train.csv",
                    "retrain_interval": 1000, "samples_for_retrain": 500}, 0.9, 100_000),
    "RRCF": ({"num_trees": 20, "tree_size": 256, "threshold": 30}, 0.9, 5_000),
    "TrendClassification": ({"num_samples": 500, "N": 20, "averaging": 1, "prediction_conv": 3, "train_noise": 0.1,
                             "warning_stages": [0.5], "amp_scale": 4.0}, 0.5, 100_000),
    "GAN": ({"train_conf": {"N_shifts": 0, "N_latent": 2, "K": 2.0, "len_window": 200}, "train_data": "train.csv"},
            0.9, 20_000),
    "KNNConformal": ({"length": 5, "history": 400, "calibration": 200, "quiet": 0, "warm_up": 100}, 0.9, 100_000),
    "fb_Prophet": ({"uncertainty_interval": 0.99, "forecast_horizons": [1000, "s"], "min_samples": 200,
                    "max_samples": 1000, "retrain_interval": 1000}, 0.7, 20_000),
}

#: Detectors whose package is optional (requirements-prophet.txt); the suite skips them without it.
OPTIONAL_PACKAGES = {"fb_Prophet": "prophet"}

