"""Dense layers whose result for a row never depends on the other rows of the batch.

BLAS picks different kernels (and summation orders) for one row and for many, so ``x @ w`` for a
row can change in its last bit with the batch size, and a detector's output would then depend on
how the stream was cut into batches. ``dense`` sums the products in a fixed order, one input
column at a time, so every row gets the same bits whatever the batch. The layers of these models
are small (tens of units), so the cost is a few vector operations per input column.
"""
from __future__ import annotations

import numpy as np


def dense(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """``x @ weights + bias`` for float64 x[n, k], weights[k, m], summed in input-column order.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> dense(np.array([[1.0, 1.0], [0.5, 0.0]]), w, np.array([0.0, 1.0])).tolist()
    [[4.0, 7.0], [0.5, 2.0]]
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((len(x), weights.shape[1])) if bias is None else np.tile(bias, (len(x), 1))
    for k in range(weights.shape[0]):
        out += x[:, k:k + 1] * weights[k]
    return out


ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def mlp_forward(x: np.ndarray, coefs, intercepts, activation: str) -> np.ndarray:
    """Output-layer values (before any output activation) of a fitted scikit-learn MLP.

    ``coefs``/``intercepts`` are the estimator's ``coefs_``/``intercepts_``; every hidden layer uses
    ``activation``. For ``MLPRegressor`` this is the prediction; for ``MLPClassifier`` the logits
    (their argmax is the predicted class).
    """
    h = np.asarray(x, dtype=np.float64)
    last = len(coefs) - 1
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        h = dense(h, w, b)
        if i < last:
            h = ACTIVATIONS[activation](h)
    return h
