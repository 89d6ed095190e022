"""A progress line on stderr for long headless runs (tqdm): samples, rate, anomalies so far."""
from __future__ import annotations

import sys
from typing import Sequence

from tqdm import tqdm

from pipeline.records import ResultBatch, SampleBatch


class ProgressLine:
    """Engine listener that shows one updating line on stderr.

    ``enabled`` None shows it only on a terminal and only after a second of running (short runs
    stay quiet); True always shows it, at once. File sources report bytes, so the line also
    shows the share of the input read; endless sources (Kafka) show the samples count only."""

    def __init__(self, source, enabled: bool | None = None, delay_s: float | None = None):
        self.source = source
        self.anomalies = 0
        if delay_s is None:
            delay_s = 0.0 if enabled else 1.0
        done, total = source.progress()
        self.bytes = total is not None
        disable = not enabled if enabled is not None else None
        if self.bytes:
            self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                            disable=disable, delay=delay_s, dynamic_ncols=True, mininterval=0.5, leave=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]{postfix}")
        else:
            self.bar = tqdm(file=sys.stderr, disable=disable, delay=delay_s, dynamic_ncols=True,
                            mininterval=0.5, leave=True, bar_format="{elapsed}{postfix}")
        self.samples = 0

    def on_results(self, samples: SampleBatch, results: Sequence[ResultBatch]) -> None:
        self.samples += len(samples)
        self.anomalies += sum(int(r.anomaly_mask().sum()) for r in results)
        done, total = self.source.progress()
        rate = self.samples / max(self.bar.format_dict["elapsed"], 1e-9)
        self.bar.set_postfix_str(f"{self.samples:,} samples, {rate:,.0f}/s, {self.anomalies:,} anomalies",
                                 refresh=False)
        self.bar.update((done if self.bytes else self.samples) - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class SeriesProgress:
    """A progress line over the series of a benchmark: series done, samples and their rate.

    ``enabled`` as for ``ProgressLine``: None shows it on a terminal only, after a second."""

    def __init__(self, series: int, enabled: bool | None = None):
        disable = not enabled if enabled is not None else None
        self.bar = tqdm(total=series, unit="series", file=sys.stderr, disable=disable,
                        delay=0.0 if enabled else 1.0, dynamic_ncols=True, mininterval=0.5, leave=True,
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} series [{elapsed}<{remaining}]{postfix}")
        self.samples = 0

    def done(self, name: str, samples: int) -> None:
        """One more series finished, with ``samples`` samples."""
        self.samples += samples
        rate = self.samples / max(self.bar.format_dict["elapsed"], 1e-9)
        self.bar.set_postfix_str(f"{name}, {self.samples:,} samples, {rate:,.0f}/s", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
