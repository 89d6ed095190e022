"""The scipy internal the EMA filters use (pipeline/detectors/scipy_internals.py) is still there
and still gives ``scipy.signal.lfilter``'s results bit for bit; if a scipy upgrade changes it,
these tests name it (runs then fall back to lfilter: same results, slower start)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import lfilter

from pipeline.detectors import scipy_internals
from tests.conftest import ROOT


def test_the_linear_filter_loop_of_scipy_signal_sigtools_still_loads_and_checks_out():
    loop = scipy_internals.load_linear_filter_loop()
    assert loop is not None, (f"scipy {scipy_internals.scipy.__version__} changed {scipy_internals.SIGTOOLS}."
                              "_linear_filter, which pipeline/detectors/scipy_internals.py loads directly")


@pytest.mark.parametrize("gain, feedback", [(0.5, 0.5), (2 / 31, 29 / 31), (0.1, 0.9), (1.0, 1.0), (1e-9, 1 - 1e-9)])
def test_it_gives_lfilter_results_bit_for_bit(gain, feedback):
    x = np.random.default_rng(7).normal(0, 1e3, 10_000)
    x[::97] = 0.0
    for previous in (0.0, -3.25, 1e300):
        ours, our_state = scipy_internals.linear_filter(np.array([gain]), np.array([1.0, -feedback]), x,
                                                        np.array([feedback * previous]))
        theirs, their_state = lfilter([gain], [1.0, -feedback], x, zi=[feedback * previous])
        assert np.array_equal(ours, theirs, equal_nan=True) and np.array_equal(our_state, their_state)


def test_a_run_with_ema_does_not_import_scipy_signal():
    code = ("import sys, numpy as np\n"
            "from pipeline.detectors.ema import EMA\n"
            "from tests.conftest import batch_of\n"
            "EMA(UL=1, LL=-1, N=5).update(batch_of(np.arange(10.0)))\n"
            "print('scipy.signal' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_the_internal_the_public_lfilter_gives_the_same(monkeypatch):
    monkeypatch.setattr(scipy_internals, "_loop", scipy_internals._public_lfilter)
    x = np.linspace(-1, 1, 101)
    y, _ = scipy_internals.linear_filter(np.array([0.25]), np.array([1.0, -0.75]), x, np.array([0.0]))
    assert np.array_equal(y, lfilter([0.25], [1.0, -0.75], x, zi=[0.0])[0])
