"""BorderCheck: fixed upper and lower limits on the first feature."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.band import Band, WarningStages, check_limits
from pipeline.detectors.base import Detector
from pipeline.records import DetectorOutput, SampleBatch


class BorderCheck(Detector):
    """Fixed limits: error outside ``[LL, UL]``, warnings near them.

    Parameters
    ----------
    UL : float
        Upper limit, in the units of the measurement.
    LL : float
        Lower limit, in the units of the measurement; below ``UL``.
    warning_stages : list of float
        Warning stages in band units (1 = on a limit, 0 = at the centre); see ``band.py``.

    Stateless: every sample is judged on its own, from the first one. ``score`` is the band score
    of the value (0.5 on a limit). Plot lines: the constant ``UL`` and ``LL``.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = BorderCheck(UL=4, LL=2, warning_stages=[0.7, 0.9])
    >>> x = np.array([3.0, 5.0, 1.0, 2.1])
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(4)))
    >>> [d.status_texts[i] for i in out.status_idx]
    ['OK', 'Error: measurement above upper limit', 'Error: measurement below lower limit', \
'Warning0: measurement close to lower limit.']
    """

    name = "border_check"
    line_names = ("UL", "LL")

    def __init__(
        self,
        UL: Annotated[float, Field(description="upper limit, in measurement units")],
        LL: Annotated[float, Field(description="lower limit, in measurement units")],
        warning_stages: WarningStages = [],  # noqa: B006
    ):
        check_limits(UL, LL)
        self.UL = UL
        self.LL = LL
        self.warning_stages = list(warning_stages)
        self._band = Band(warning_stages, noun="measurement")
        self.status_texts, self.status_codes = self._band.vocabulary

    def update(self, samples: SampleBatch) -> DetectorOutput:
        n = self._band.normalised(samples.values[:, 0], self.UL, self.LL)
        count = len(samples)
        return DetectorOutput(
            status_idx=self._band.classify(n),
            score=self._band.score(n),
            lines={"UL": np.full(count, float(self.UL)), "LL": np.full(count, float(self.LL))},
        )
