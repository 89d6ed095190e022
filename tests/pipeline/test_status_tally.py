"""StatusTally: samples per status, the one count behind the summary, DetectorRun and the window."""
from __future__ import annotations

import numpy as np

from pipeline.records import Status, StatusTally


def test_counts_equal_a_per_sample_count_whichever_way_results_are_given():
    rng = np.random.default_rng(1)
    vocabulary = np.array([Status.OK, Status.UNDEFINED, Status.ERROR, Status.ERROR, Status.WARNING], dtype=np.int8)
    batches = [rng.integers(0, len(vocabulary), n) for n in (0, 1, 50, 7)]
    by_index, by_code, expected = StatusTally(), StatusTally(), {int(s): 0 for s in Status}
    for idx in batches:
        by_index.add(idx, vocabulary)
        by_code.add_codes(vocabulary[idx])
        for i in idx.tolist():
            expected[int(vocabulary[i])] += 1
    assert by_index.counts == by_code.counts == expected
    assert by_index.samples == sum(len(b) for b in batches)
    assert by_index.anomalies == expected[Status.WARNING] + expected[Status.ERROR]


def test_names_follow_the_summary_columns():
    tally = StatusTally()
    tally.add_codes(np.array([2, 2, -1, 1]))
    assert list(tally.named().items()) == [("ok", 1), ("warning", 0), ("error", 1), ("undefined", 2)]
    assert tally[Status.UNDEFINED] == 2
