"""RRCF: a streaming robust random cut forest (Guha et al., 2016), with the tree updates compiled
by numba."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.base import MAX_WINDOW, Detector, ParameterError
from pipeline.detectors.model_store import RandomState
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status

OK_IDX, UNDEFINED_IDX, ERROR_IDX = 0, 1, 2

#: Rows with a value beyond this are undefined, like non-finite ones: a box spanning more than the
#: largest float would make its cut infinite (1e300 leaves room for 10^8 features).
MAX_MAGNITUDE = 1e300


def _kernel():
    """``pipeline.kernels.rrcf``, imported on first use so that numba loads only with a forest."""
    from pipeline.kernels import rrcf
    return rrcf


class RandomCutForest:
    """``num_trees`` random cut trees over the last ``tree_size`` points, as flat arrays that a
    compiled kernel (``_advance``) updates one point at a time.

    This is the streaming algorithm of the ``rrcf`` package: when the trees are full, forget the
    oldest point (``forget_point``: splice its leaf's parent out, decrease the counts above it and
    shrink the boxes that had the point on their boundary); insert the new point
    (``insert_point``: walk down from the root, at each node draw a cut uniformly over the node's
    box extended by the point, weighting dimensions by their span; stop where the cut separates
    the point from the box and put a new branch there, otherwise follow the node's own cut); then
    its codisp (``codisp``: the largest ratio of sibling count to own count on the path to the
    root), averaged over the trees. Equal points share one leaf with a count, as in ``rrcf``.

    The walks are sequential pointer chasing, which numpy cannot vectorise and Python runs at
    about a microsecond a node; compiled, a point costs about a microsecond for all trees.

    Layout: tree ``t`` owns node slots ``t * M ... t * M + M - 1`` (``M = 2 * tree_size``); slots
    ``0 .. tree_size - 1`` of every tree are leaves and a point has the *same* leaf slot in every
    tree (all trees hold the same points); branch slots come from a free stack per tree (the trees
    allocate in lockstep). One extra slot, ``none``, is the parent of every root and the children
    of every leaf.

    Random draws come from ``rng`` (a numpy Generator) in blocks; the kernel takes them in order,
    so results do not depend on how the stream is cut into batches.

    One difference from ``rrcf`` 0.4.4: when the walk reaches a leaf, its ``_insert_point_cut``
    collapses the leaf's one-point box and always cuts the first feature at the larger of the two
    values; we cut uniformly between the leaf and the point, as the RRCF paper does.
    """

    #: Uniforms drawn from ``rng`` at a time (at least a worst-case point's worth).
    UNIFORM_BLOCK = 1 << 16

    def __init__(self, num_trees: int, tree_size: int, rng: np.random.Generator):
        self.num_trees = num_trees
        self.tree_size = tree_size
        self.rng = rng
        self.dim: int | None = None
        # a point draws at most one uniform per level of each tree, and a tree has < tree_size levels
        self.worst_case_uniforms = num_trees * (tree_size + 1)
        self.uniforms = np.empty(0)
        self.state = np.zeros(5, dtype=np.int64)

    def _allocate(self, dim: int) -> None:
        T, S = self.num_trees, self.tree_size
        M = 2 * S
        n = T * M
        self.dim = dim
        self.none = n
        self.offset = np.arange(T, dtype=np.int64) * M
        self.left = np.full(n + 1, n, dtype=np.int64)
        self.right = np.full(n + 1, n, dtype=np.int64)
        self.parent = np.full(n + 1, n, dtype=np.int64)
        self.cut_dim = np.zeros(n + 1, dtype=np.int64)
        self.cut = np.zeros(n + 1)
        self.count = np.zeros(n + 1, dtype=np.int64)
        self.lo = np.zeros((n + 1, dim))
        self.hi = np.zeros((n + 1, dim))
        self.root = np.full(T, n, dtype=np.int64)
        self.free_branches = np.tile(np.arange(S, 2 * S - 1, dtype=np.int64), (T, 1))
        self.free_leaves = np.arange(S - 1, -1, -1, dtype=np.int64)
        self.multiplicity = np.zeros(S, dtype=np.int64)
        self.ring_leaf = np.full(S, -1, dtype=np.int64)   # leaf slot of the point at ring position
        self.state[_kernel().FREE_BRANCH_TOP] = S - 1
        self.state[_kernel().FREE_LEAF_TOP] = S

    def update_many(self, x: np.ndarray) -> np.ndarray:
        """Insert the rows of ``x`` (float64 [n, dim], all finite) in order, each after forgetting
        the oldest point when the trees are full; returns each row's mean codisp over the trees."""
        kernel = _kernel()
        x = np.ascontiguousarray(x, dtype=np.float64)
        if self.dim is None:
            self._allocate(x.shape[1])
        codisp = np.empty(len(x))
        done = 0
        while done < len(x):
            if len(self.uniforms) - self.state[kernel.NEXT_UNIFORM] < self.worst_case_uniforms:
                self._draw_uniforms()
            done += kernel.advance(x[done:], codisp[done:], self.uniforms, self.state, self.worst_case_uniforms,
                             self.left, self.right, self.parent, self.cut_dim, self.cut, self.count,
                             self.lo, self.hi, self.root, self.free_branches, self.free_leaves,
                             self.multiplicity, self.ring_leaf)
        return codisp

    def update(self, x: np.ndarray) -> float:
        """``update_many`` of one point."""
        return float(self.update_many(np.asarray(x, dtype=np.float64)[None, :])[0])

    def _draw_uniforms(self) -> None:
        # the unused rest comes first, so the draws are one stream however the batches fall
        rest = self.uniforms[self.state[_kernel().NEXT_UNIFORM]:]
        block = max(self.UNIFORM_BLOCK, 2 * self.worst_case_uniforms)
        self.uniforms = np.concatenate([rest, self.rng.random(block)])
        self.state[_kernel().NEXT_UNIFORM] = 0

    def leaf_slot(self, x: np.ndarray) -> int:
        """The leaf slot that holds point ``x`` (it must be in the trees)."""
        node = self.root[0]
        while node >= self.tree_size:
            node = self.left[node] if x[self.cut_dim[node]] <= self.cut[node] else self.right[node]
        assert np.array_equal(self.lo[node], x), "point not in the forest"
        return int(node)


class RRCF(Detector):
    """Streaming robust random cut forest: collusive displacement (codisp) of each new sample.

    Each of ``num_trees`` random cut trees holds the last ``tree_size`` samples; for each sample
    the oldest one is forgotten, the sample is inserted, and its codisp (how many points its
    removal would displace relative to its own subtree, maximised over its ancestors) is averaged
    over the trees. ``codisp > threshold`` is ``"Error: Anomaly detected"`` (status -1), otherwise
    OK (1); samples with a non-finite value, or one beyond ±1e300 (``MAX_MAGNITUDE``), are
    undefined (2) and not inserted. The original put the codisp itself into ``status_code`` and the
    text; here it is the ``codisp`` plot line. Same
    semantics as the ``rrcf`` package, 200-350x faster (``benchmarks/rrcf_speed.py``); the
    random draws differ, so results agree with the original statistically, not sample by sample.
    Memory: fixed arrays of ``2 num_trees tree_size`` nodes. No warm-up: while the trees hold few
    points codisp is small, so the first samples are OK.

    Parameters
    ----------
    num_trees : int
        Trees in the forest (>= 1).
    tree_size : int
        Samples each tree holds (the window), >= 2.
    threshold : float
        Codisp above which a sample is an error (> 0), in points displaced.
    random_state : int
        Seed of the random cuts.

    ``score`` is ``codisp / (codisp + threshold)``: 0 for a sample that displaces nothing, 0.5 at
    the threshold, approaching 1 far above it. Plot line: ``codisp``.

    Examples
    --------
    >>> import numpy as np
    >>> from pipeline.records import SampleBatch
    >>> d = RRCF(num_trees=20, tree_size=64, threshold=15)
    >>> x = np.sin(np.arange(300) / 8)
    >>> x[250] = 4.0
    >>> out = d.update(SampleBatch(x, x, x[:, None], np.arange(300)))
    >>> np.flatnonzero(d.status_codes[out.status_idx] == -1).tolist()
    [250]
    """

    name = "RRCF"
    line_names = ("codisp",)
    own_scale_lines = ("codisp",)  # points displaced
    status_texts = (OK_TEXT, UNDEFINED_TEXT, "Error: Anomaly detected")
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR], dtype=np.int8)

    def __init__(
        self,
        num_trees: Annotated[int, Field(ge=1, le=MAX_WINDOW, description="trees in the forest")],
        tree_size: Annotated[int, Field(ge=2, le=MAX_WINDOW, description="samples each tree holds (the window)")],
        threshold: Annotated[float, Field(gt=0, description=(
            "codisp above which a sample is an error, in points displaced"))],
        random_state: RandomState = 0,
    ):
        self.num_trees = num_trees
        self.tree_size = tree_size
        self.threshold = threshold
        self.random_state = random_state
        if num_trees * tree_size > MAX_WINDOW:
            raise ParameterError("tree_size", tree_size, f"num_trees x tree_size at most {MAX_WINDOW:,} points "
                                 f"(the forest would hold {num_trees * tree_size:,})")
        self._forest = RandomCutForest(num_trees, tree_size, np.random.default_rng(random_state))

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = np.asarray(samples.values, dtype=np.float64)
        n = len(x)
        codisp = np.full(n, np.nan)
        valid = (np.abs(x) <= MAX_MAGNITUDE).all(axis=1)   # False for NaN too
        codisp[valid] = self._forest.update_many(x[valid])
        status = np.where(codisp > self.threshold, ERROR_IDX, OK_IDX).astype(np.int16)
        status[~valid] = UNDEFINED_IDX
        score = np.where(valid, codisp / (codisp + self.threshold), 0.0)
        score = np.nan_to_num(score, nan=0.0)
        return DetectorOutput(status, score, {"codisp": codisp})
