"""fb_Prophet: a Prophet forecast of the recent history; a value outside its uncertainty interval is
an error. Optional: needs the ``prophet`` package (``pip install -r requirements-prophet.txt``)."""
from __future__ import annotations

import logging
import time
import warnings
from typing import Annotated, Optional, Union

import numpy as np
from pydantic import Field

from pipeline.detectors.band import Band
from pipeline.detectors.base import Detector, DetectorContext, ParameterError
from pipeline.detectors.model_store import ModelError, RandomState
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status
from pipeline.sample_tail import SampleTail

log = logging.getLogger(__name__)

OK_IDX, UNDEFINED_IDX, BELOW_IDX, ABOVE_IDX = 0, 1, 2, 3


def load_prophet():
    """The Prophet class, with its and cmdstanpy's per-fit chatter turned down."""
    try:
        from prophet import Prophet
    except ImportError:
        raise ModelError("fb_Prophet needs the optional package prophet: "
                         "pip install -r requirements-prophet.txt") from None
    for name in ("prophet", "cmdstanpy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return Prophet


class FbProphet(Detector):
    """Judges each value against the uncertainty interval of a Prophet forecast.

    The detector keeps the last ``max_samples`` (time, first feature) pairs, seeded from
    ``history_file``. While it holds fewer than ``min_samples`` the samples are undefined; once it
    has enough, and then after every ``retrain_interval`` judged samples, Prophet
    (``interval_width = uncertainty_interval``) is fitted on them and forecasts
    ``forecast_horizons = [periods, freq]`` past the last one. Each sample is judged against the
    forecast row nearest to its timestamp: below ``yhat_lower`` is
    ``"Error: Value below the lower limit"``, above ``yhat_upper``
    ``"Error: Value over the upper limit"``, else OK; ``yhat`` is the suggested value. Fits happen
    at absolute sample counts and draw their random numbers (Stan's seed, the interval's sampling)
    from ``random_state``, so runs are reproducible. Each fit costs a Prophet fit and forecast
    (tens to hundreds of milliseconds), logged like the other models' fits.

    The original could not run (wrong import, a required "optional" file it then overwrote,
    ``DataFrame.append``); this is what its keys describe. ``history_file`` is read, never
    written.

    Parameters
    ----------
    uncertainty_interval : float
        Width of the forecast's uncertainty interval, in (0, 1).
    forecast_horizons : [int, str]
        Forecast ``periods`` past the last sample, at pandas frequency ``freq`` (e.g. "min").
    min_samples : int
        Samples needed before the first fit (>= 2).
    max_samples : int
        Samples kept and fitted on.
    retrain_interval : int
        Judged samples between fits.
    history_file : str or None
        CSV with ``ds`` (time text) and ``y`` columns, or ``timestamp`` (epoch seconds) and a value
        column, that seeds the history.
    random_state : int
        Seed of the fits.

    ``score`` is the band score of the value in ``[yhat_lower, yhat_upper]``: 0.5 on a limit.
    Plot lines: ``yhat``, ``yhat_lower``, ``yhat_upper``.

    Examples
    --------
    >>> import numpy as np, pytest
    >>> from pipeline.records import SampleBatch
    >>> _ = pytest.importorskip("prophet")      # the optional package; skipped without it
    >>> d = FbProphet(uncertainty_interval=0.99, forecast_horizons=[100, "min"], min_samples=50,
    ...               max_samples=300, retrain_interval=100)
    >>> t = 1_700_000_000 + 60 * np.arange(160.0)
    >>> x = np.sin(np.arange(160) / 10)
    >>> x[120] = 6.0
    >>> out = d.update(SampleBatch(t, t, x[:, None], np.arange(160)))
    >>> d.status_codes[out.status_idx][[0, 49, 50, 120]].tolist()
    [2, 2, 1, -1]
    """

    name = "Prophet"
    line_names = ("yhat", "yhat_lower", "yhat_upper")
    status_texts = (OK_TEXT, UNDEFINED_TEXT, "Error: Value below the lower limit", "Error: Value over the upper limit")
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR, Status.ERROR], dtype=np.int8)

    def __init__(
        self,
        uncertainty_interval: Annotated[float, Field(gt=0, lt=1, description=(
            "width of the forecast's uncertainty interval"))],
        forecast_horizons: Annotated[list[Union[int, str]], Field(min_length=2, max_length=2, description=(
            '[periods, freq]: forecast periods past the last sample at a pandas frequency, e.g. [60, "min"]'))],
        min_samples: Annotated[int, Field(ge=2, description="samples needed before the first fit")],
        max_samples: Annotated[int, Field(ge=2, description="samples kept and fitted on")],
        retrain_interval: Annotated[int, Field(ge=1, description="judged samples between fits")] = 1,
        history_file: Annotated[Optional[str], Field(description=(
            "CSV (ds, y) or (timestamp, value) that seeds the history; read, never written"))] = None,
        random_state: RandomState = 0,
    ):
        periods, freq = forecast_horizons
        if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
            raise ParameterError("forecast_horizons[0]", periods, "a whole number of periods >= 1")
        if not isinstance(freq, str):
            raise ParameterError("forecast_horizons[1]", freq, 'a pandas frequency such as "min" or "h"')
        if max_samples < min_samples:
            raise ParameterError("max_samples", max_samples, f"at least min_samples ({min_samples})")
        self.uncertainty_interval = uncertainty_interval
        self.forecast_horizons = list(forecast_horizons)
        self.min_samples = min_samples
        self.max_samples = max_samples
        self.retrain_interval = retrain_interval
        self.history_file = history_file
        self.random_state = random_state
        self._band = Band([], noun="value")
        self._times = SampleTail(max_samples)    # of the samples fitted on, epoch seconds
        self._values = SampleTail(max_samples)
        self._forecast: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._since = 0
        self.fits = 0
        self.fit_seconds = 0.0

    def start(self, context: DetectorContext) -> None:
        """Read ``history_file`` and fit when it holds enough samples."""
        load_prophet()
        if self.history_file is not None:
            path = context.resolve_path(self.history_file)
            if path is None:
                raise ModelError(f"history_file: file {self.history_file!r} not found")
            times, values = read_history(path)
            self._remember(times, values)
            if len(self._values) >= self.min_samples:
                self._fit()

    def _remember(self, times: np.ndarray, values: np.ndarray) -> None:
        self._times.extend(times)
        self._values.extend(values)

    def _fit(self) -> None:
        import pandas as pd
        Prophet = load_prophet()
        began = time.perf_counter()
        seed = int(np.random.SeedSequence([self.random_state, self.fits]).generate_state(1)[0] % (2 ** 31 - 1))
        frame = pd.DataFrame({"ds": pd.to_datetime(self._times.samples, unit="s"), "y": self._values.samples})
        periods, freq = self.forecast_horizons
        saved = np.random.get_state()      # Prophet samples its intervals from numpy's global generator
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", module="prophet")   # its own pandas deprecations
                model = Prophet(interval_width=self.uncertainty_interval)
                model.fit(frame, seed=seed)
                future = model.make_future_dataframe(periods=periods, freq=freq)
                np.random.seed(seed)
                forecast = model.predict(future)
        finally:
            np.random.set_state(saved)
        ds = (forecast["ds"].to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9).astype(np.float64)
        self._forecast = (ds, forecast["yhat"].to_numpy(float), forecast["yhat_lower"].to_numpy(float),
                          forecast["yhat_upper"].to_numpy(float))
        self.fits += 1
        elapsed = time.perf_counter() - began
        self.fit_seconds += elapsed
        log.log(logging.INFO if self.fits == 1 else logging.DEBUG,
                "%s: fitted on %d samples in %.3f s (fit %d)", self.name, len(self._values), elapsed, self.fits)

    def _nearest(self, times: np.ndarray) -> np.ndarray:
        """Row of the forecast nearest to each time (the earlier one on a tie)."""
        ds = self._forecast[0]
        pos = np.clip(np.searchsorted(ds, times), 1, len(ds) - 1)
        earlier = np.abs(times - ds[pos - 1]) <= np.abs(ds[pos] - times)
        return np.where(earlier, pos - 1, pos) if len(ds) > 1 else np.zeros(len(times), dtype=np.int64)

    def update(self, samples: SampleBatch) -> DetectorOutput:
        n = len(samples)
        x = np.asarray(samples.values, dtype=np.float64)
        status = np.full(n, UNDEFINED_IDX, dtype=np.int16)
        score = np.zeros(n)
        lines = {name: np.full(n, np.nan) for name in self.line_names}
        suggested = np.full(x.shape, np.nan)
        rows = np.flatnonzero(np.isfinite(x).all(axis=1)) if n else np.empty(0, dtype=np.int64)
        times, values = np.asarray(samples.time_s, dtype=np.float64)[rows], x[rows, 0] if n else np.empty(0)
        i = 0
        while i < len(rows):
            if self._forecast is None:
                take = min(max(self.min_samples - len(self._values), 1), len(rows) - i)
                self._remember(times[i:i + take], values[i:i + take])
                if len(self._values) >= self.min_samples:
                    self._fit()
            else:
                take = min(self.retrain_interval - self._since, len(rows) - i)
                part = slice(i, i + take)
                at = self._nearest(times[part])
                _, yhat, lower, upper = (a[at] for a in self._forecast)
                v = values[part]
                idx = np.where(v < lower, BELOW_IDX, np.where(v > upper, ABOVE_IDX, OK_IDX))
                where = rows[part]
                status[where] = idx
                score[where] = self._band.score(self._band.normalised(v, upper, lower))
                lines["yhat"][where], lines["yhat_lower"][where], lines["yhat_upper"][where] = yhat, lower, upper
                suggested[where, 0] = yhat
                self._remember(times[part], v)
                self._since += take
                if self._since == self.retrain_interval:
                    self._since = 0
                    self._fit()
            i += take
        return DetectorOutput(status, score, lines, suggested)


def read_history(path) -> tuple[np.ndarray, np.ndarray]:
    """(epoch seconds, values) of a history CSV: ``ds`` and ``y`` columns (the original's form),
    or ``timestamp`` in epoch seconds and the first other column."""
    import pandas as pd
    frame = pd.read_csv(path)
    if {"ds", "y"} <= set(frame.columns):
        times = pd.to_datetime(frame["ds"]).to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
        return times.astype(np.float64), frame["y"].to_numpy(dtype=np.float64)
    if "timestamp" in frame.columns and len(frame.columns) > 1:
        value = [c for c in frame.columns if c != "timestamp"][0]
        return frame["timestamp"].to_numpy(dtype=np.float64), frame[value].to_numpy(dtype=np.float64)
    raise ModelError(f"history_file: {path} needs columns ds and y, or timestamp and a value column")
