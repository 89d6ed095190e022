"""RRCF: a streaming robust random cut forest (Guha et al., 2016), all trees updated together in
numpy arrays."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from pipeline.detectors.base import Detector
from pipeline.detectors.model_store import RandomState
from pipeline.records import OK_TEXT, UNDEFINED_TEXT, DetectorOutput, SampleBatch, Status

OK_IDX, UNDEFINED_IDX, ERROR_IDX = 0, 1, 2


class RandomCutForest:
    """``num_trees`` random cut trees over the last ``tree_size`` points, as flat numpy arrays.

    This is the streaming algorithm of the ``rrcf`` package (``forget_point`` of the oldest point,
    ``insert_point`` by the insert-cut rule, ``codisp`` of the new point), with every tree advanced
    by the same vector operations instead of Python objects per node, and no per-level work
    beyond following parent pointers:

    - Insertion. ``rrcf`` walks down from the root; at each node it draws a cut uniformly over the
      node's box extended by the new point, stops when the cut separates the point from the box,
      and otherwise follows the node's own cut. Whether it stops at a node does not change which
      node comes next, so the walk visits a prefix of the point's query path. We find the leaf the
      query reaches, climb from it to the root, draw one uniform per node on that path and take the
      separating cut nearest the root, for every level and tree at once. A leaf's box is its point,
      so there is always a separating cut.
    - Deletion and codisp climb from a leaf to the root, then update counts, boxes and codisp for
      all levels and trees at once. A box shrunk by a deletion is the running union of the boxes
      hanging off the path (``np.minimum.accumulate`` up the path), which equals ``rrcf``'s
      bottom-up relaxation because every box is an exact min/max.
    - The query leaf. With one feature every tree orders its leaves by value and has exactly one
      cut between two neighbouring values, so the leaf is found by a binary search in the sorted
      values (the same for all trees) and one comparison with each tree's cut in that gap; the
      gaps' cuts are kept in a [trees, values] array. With more features the query walks down.

    Layout: tree ``t`` owns node slots ``t * M ... t * M + M - 1`` (``M = 2 * tree_size``);
    slots ``0 .. tree_size - 1`` of every tree are leaves and a point has the *same* leaf slot in
    every tree (all trees hold the same points); branch slots come from a free stack per tree (the
    trees allocate in lockstep). One extra slot, ``none``, is the parent of every root, the
    children of every leaf, and its own parent and children, so walks need no bounds checks.
    Equal points share one leaf with a count, as in ``rrcf``.

    One difference from ``rrcf`` 0.4.4: when the walk reaches a leaf, its ``_insert_point_cut``
    collapses the leaf's one-point box and always cuts the first feature at the larger of the two
    values; we cut uniformly between the leaf and the point, as the RRCF paper does.
    """

    #: Pointer steps between checks whether every walk has ended (extra steps stay at ``none``).
    UNROLL = 4

    def __init__(self, num_trees: int, tree_size: int, rng: np.random.Generator):
        self.num_trees = num_trees
        self.tree_size = tree_size
        self.rng = rng
        self.dim: int | None = None
        self.index = 0          # points inserted so far
        self.points = 0         # points in every tree now

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
        self.count[n] = 1       # ``none``: never a divisor of zero in codisp (its rows are masked)
        self.lo = np.zeros((n + 1, dim))
        self.hi = np.zeros((n + 1, dim))
        # with one feature, 1-D views: fancy indexing on them is several times cheaper
        self.box_lo = self.lo[:, 0] if dim == 1 else self.lo
        self.box_hi = self.hi[:, 0] if dim == 1 else self.hi
        self.root = np.full(T, n, dtype=np.int64)
        self.free_branches = np.tile(np.arange(S, 2 * S - 1, dtype=np.int64), (T, 1))
        self.free_top = S - 1
        self.free_leaves = list(range(S - 1, -1, -1))
        self.leaf_of_point: dict[bytes, int] = {}
        self.multiplicity = np.zeros(S, dtype=np.int64)
        self.ring_leaf = np.full(S, -1, dtype=np.int64)   # leaf slot of the point at ring position
        self.ring_key: list[bytes | None] = [None] * S
        self.trees = np.arange(T, dtype=np.int64)
        # one feature: distinct values in order, their leaf slots, and each tree's cut per gap
        self.distinct = 0
        self.values = np.empty(S)
        self.value_leaf = np.empty(S, dtype=np.int64)
        self.gap_cut = np.empty((T, max(S - 1, 1)))

    def update(self, x: np.ndarray) -> float:
        """Forget the oldest point when full, insert ``x``, return its mean codisp over the trees."""
        if self.dim is None:
            self._allocate(len(x))
        position = self.index % self.tree_size
        if self.points == self.tree_size:
            self._forget(position)
        codisp = self._insert(x, position)
        self.index += 1
        return float(np.add.reduce(codisp)) / self.num_trees

    def _climb(self, start: np.ndarray) -> np.ndarray:
        """int64[levels, trees]: ``start`` and its ancestors, level by level (``none`` above roots)."""
        parent, none = self.parent, self.none
        path = [start]
        node = start
        while True:
            for _ in range(self.UNROLL):
                node = parent[node]
                path.append(node)
            if not np.count_nonzero(node != none):
                return np.array(path)

    def _query_leaf(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """The leaf ``x`` reaches in each tree following the cuts (x <= cut goes left), and, with
        one feature, the position of ``x`` among the sorted values."""
        if self.dim == 1:
            m = self.distinct
            i = int(np.searchsorted(self.values[:m], x[0]))
            if i == 0 or i == m:
                pos = np.full(self.num_trees, 0 if i == 0 else m - 1)
            else:
                pos = np.where(x[0] <= self.gap_cut[:, i - 1], i - 1, i)
            return self.offset + self.value_leaf[pos], i
        left, right, cuts, cut_dim, none = self.left, self.right, self.cut, self.cut_dim, self.none
        node = self.root
        while True:
            step = np.where(x[cut_dim[node]] <= cuts[node], left[node], right[node])
            if not np.count_nonzero(step != none):
                return node, -1
            node = np.where(step == none, node, step)

    # -- forget --------------------------------------------------------------------------------
    def _forget(self, position: int) -> None:
        slot = int(self.ring_leaf[position])
        leaf = self.offset + slot
        self.points -= 1
        if self.multiplicity[slot] > 1:
            above = self._climb(leaf)[1:]
            self.multiplicity[slot] -= 1
            self.count[leaf] -= 1
            self.count[above[above != self.none]] -= 1
            return
        value = self.lo[leaf[0], 0]
        lo, hi = self.box_lo, self.box_hi
        del self.leaf_of_point[self.ring_key[position]]
        self.multiplicity[slot] = 0
        self.free_leaves.append(slot)
        left, right, none = self.left, self.right, self.none
        if self.parent[leaf[0]] == none:    # it was the only point
            self.root[:] = none
            self.distinct = 0
            return
        path = self._climb(leaf)
        children, nodes = path[:-1], path[1:]
        lft = left[nodes]
        off_path = np.where(lft == children, right[nodes], lft)     # [0]: the leaf's sibling
        parent, sibling, grand = nodes[0], off_path[0], path[2]
        if self.dim == 1:
            self._drop_value(value, self.cut[parent])
        # splice the leaf's parent out: the sibling takes its place under the grandparent
        self.parent[sibling] = grand
        top = grand == none
        self.root[top] = sibling[top]
        on_left = left[grand] == parent
        left[grand[on_left & ~top]] = sibling[on_left & ~top]
        right[grand[~on_left & ~top]] = sibling[~on_left & ~top]
        self.free_branches[:, self.free_top] = parent - self.offset
        self.free_top += 1
        # every ancestor above the spliced branch: one point fewer, box = union of what hangs off
        # the path below it (rows past a tree's root are ``none`` and stay unwritten)
        ancestors = nodes[1:]
        real = ancestors != none
        targets = ancestors[real]
        self.count[targets] -= 1
        lo[targets] = np.minimum.accumulate(lo[off_path], axis=0)[1:][real]
        hi[targets] = np.maximum.accumulate(hi[off_path], axis=0)[1:][real]

    def _drop_value(self, value: float, removed_cut: np.ndarray) -> None:
        """One feature: take ``value`` out of the sorted values; its two gaps become one, keeping
        the cut that was not its parent's."""
        m = self.distinct
        i = int(np.searchsorted(self.values[:m], value))
        gaps = self.gap_cut
        if 0 < i < m - 1:
            below, above = gaps[:, i - 1], gaps[:, i]
            gaps[:, i - 1] = np.where(below == removed_cut, above, below)
        if i < m - 1:       # gap i is gone (merged into i - 1, or the first gap when i == 0)
            gaps[:, i:m - 2] = gaps[:, i + 1:m - 1].copy()
        self.values[i:m - 1] = self.values[i + 1:m].copy()
        self.value_leaf[i:m - 1] = self.value_leaf[i + 1:m].copy()
        self.distinct = m - 1

    # -- insert --------------------------------------------------------------------------------
    def _insert(self, x: np.ndarray, position: int) -> np.ndarray:
        key = (x + 0.0).tobytes()   # +0.0: -0.0 and 0.0 are the same point
        slot = self.leaf_of_point.get(key)
        self.points += 1
        self.ring_key[position] = key
        if slot is not None:        # a duplicate: one more point in its leaf
            self.ring_leaf[position] = slot
            self.multiplicity[slot] += 1
            return self._add_duplicate(self.offset + slot)
        slot = self.free_leaves.pop()
        self.leaf_of_point[key] = slot
        self.multiplicity[slot] = 1
        self.ring_leaf[position] = slot
        leaf = self.offset + slot
        if self.root[0] == self.none:   # the first point: a lone leaf
            self._set_leaf(leaf, x)
            self.parent[leaf] = self.none
            self.root[:] = leaf
            self.values[0], self.value_leaf[0], self.distinct = x[0], slot, 1
            return np.zeros(self.num_trees)
        found, rank = self._query_leaf(x)
        self._set_leaf(leaf, x)
        return self._add_leaf(leaf, x, found, rank, slot)

    def _set_leaf(self, leaf: np.ndarray, x: np.ndarray) -> None:
        point = x[0] if self.dim == 1 else x
        self.box_lo[leaf] = point
        self.box_hi[leaf] = point
        self.count[leaf] = 1

    def _add_duplicate(self, leaf: np.ndarray) -> np.ndarray:
        self.count[leaf] += 1
        path = self._climb(leaf)
        children, nodes = path[:-1], path[1:]
        real = nodes != self.none
        self.count[nodes[real]] += 1
        return self._codisp(children, nodes, real)

    def _codisp(self, children, nodes, real) -> np.ndarray:
        """Per tree, max over the path of (count of the sibling / count of the child on the path)."""
        lft = self.left[nodes]
        sibling = np.where(lft == children, self.right[nodes], lft)
        ratio = self.count[sibling] / self.count[children]
        ratio[~real] = 0.0
        return ratio.max(axis=0)

    def _add_leaf(self, leaf: np.ndarray, x: np.ndarray, found: np.ndarray, rank: int, slot: int) -> np.ndarray:
        path = self._climb(found)                        # [levels, trees]: found leaf first, root last
        rows = np.arange(len(path))[:, None]
        real = path != self.none
        u = self.rng.random(path.shape)
        lo, hi = self.box_lo, self.box_hi
        point = x[0] if self.dim == 1 else x
        if self.dim == 1:
            box_lo, box_hi = lo[path], hi[path]
            ext_hi = np.maximum(box_hi, x[0])
            cut = ext_hi - u * (ext_hi - np.minimum(box_lo, x[0]))
            dim = None
        else:
            boxes_lo, boxes_hi = lo[path], hi[path]      # [levels, trees, dim]
            ext_lo = np.minimum(boxes_lo, x)
            spans = np.cumsum(np.maximum(boxes_hi, x) - ext_lo, axis=2)
            r = u * spans[..., -1]
            dim = np.minimum((spans < r[..., None]).sum(axis=2), self.dim - 1)
            pick = dim[..., None]
            cut = (np.take_along_axis(ext_lo, pick, 2) + np.take_along_axis(spans, pick, 2))[..., 0] - r
            box_lo = np.take_along_axis(boxes_lo, pick, 2)[..., 0]
            box_hi = np.take_along_axis(boxes_hi, pick, 2)[..., 0]
        new_left = cut <= box_lo
        stops = (new_left | (cut >= box_hi)) & real
        level = len(path) - 1 - np.argmax(stops[::-1], axis=0)     # the separating cut nearest the root
        trees = self.trees
        target = path[level, trees]
        new_on_left = new_left[level, trees]
        new_cut = cut[level, trees]

        self.free_top -= 1
        branch = self.free_branches[:, self.free_top] + self.offset
        above = self.parent[target]
        left, right = self.left, self.right
        self.cut_dim[branch] = 0 if dim is None else dim[level, trees]
        self.cut[branch] = new_cut
        left[branch] = np.where(new_on_left, leaf, target)
        right[branch] = np.where(new_on_left, target, leaf)
        self.parent[branch] = above
        self.parent[target] = branch
        self.parent[leaf] = branch
        top = above == self.none
        self.root[top] = branch[top]
        on_left = left[above] == target
        left[above[on_left & ~top]] = branch[on_left & ~top]
        right[above[~on_left & ~top]] = branch[~on_left & ~top]
        self.count[branch] = self.count[target] + 1
        lo[branch] = np.minimum(lo[target], point)
        hi[branch] = np.maximum(hi[target], point)
        if dim is None:
            self._add_value(x[0], slot, rank, new_cut)

        # the ancestors of the new branch are the path above the target
        is_ancestor = (rows > level) & real
        ancestors = path[is_ancestor]
        self.count[ancestors] += 1
        lo[ancestors] = np.minimum(lo[ancestors], point)
        hi[ancestors] = np.maximum(hi[ancestors], point)
        # codisp: the leaf under the branch, then the branch and each ancestor under its parent
        children = np.concatenate([leaf[None], np.where(rows[1:] - 1 == level, branch, path[:-1])])
        nodes = np.concatenate([branch[None], path[1:]])
        is_ancestor[0] = True
        return self._codisp(children, nodes, is_ancestor)

    def _add_value(self, value: float, slot: int, i: int, new_cut: np.ndarray) -> None:
        """One feature: put ``value`` at sorted position ``i``; the gap it falls in splits in two,
        one side keeping the old cut and the other getting the new branch's."""
        m = self.distinct
        gaps = self.gap_cut
        if m > 1:
            gaps[:, i + 1:m] = gaps[:, i:m - 1].copy()
        if i == 0:
            gaps[:, 0] = new_cut
        elif i == m:
            gaps[:, m - 1] = new_cut
        else:
            old = gaps[:, i - 1]
            gaps[:, i - 1], gaps[:, i] = np.minimum(old, new_cut), np.maximum(old, new_cut)
        self.values[i + 1:m + 1] = self.values[i:m].copy()
        self.value_leaf[i + 1:m + 1] = self.value_leaf[i:m].copy()
        self.values[i], self.value_leaf[i] = value, slot
        self.distinct = m + 1


class RRCF(Detector):
    """Streaming robust random cut forest: collusive displacement (codisp) of each new sample.

    Each of ``num_trees`` random cut trees holds the last ``tree_size`` samples; for each sample
    the oldest one is forgotten, the sample is inserted, and its codisp (how many points its
    removal would displace relative to its own subtree, maximised over its ancestors) is averaged
    over the trees. ``codisp > threshold`` is ``"Error: Anomaly detected"`` (status -1), otherwise
    OK (1); samples with a non-finite value are undefined (2) and not inserted. The original put
    the codisp itself into ``status_code`` and the text; here it is the ``codisp`` plot line. Same
    semantics as the ``rrcf`` package, about 30-50x faster (``benchmarks/rrcf_speed.py``); the
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
    status_texts = (OK_TEXT, UNDEFINED_TEXT, "Error: Anomaly detected")
    status_codes = np.array([Status.OK, Status.UNDEFINED, Status.ERROR], dtype=np.int8)

    def __init__(
        self,
        num_trees: Annotated[int, Field(ge=1, description="trees in the forest")],
        tree_size: Annotated[int, Field(ge=2, description="samples each tree holds (the window)")],
        threshold: Annotated[float, Field(gt=0, description=(
            "codisp above which a sample is an error, in points displaced"))],
        random_state: RandomState = 0,
    ):
        self.num_trees = num_trees
        self.tree_size = tree_size
        self.threshold = threshold
        self.random_state = random_state
        self._forest = RandomCutForest(num_trees, tree_size, np.random.default_rng(random_state))

    def update(self, samples: SampleBatch) -> DetectorOutput:
        x = np.asarray(samples.values, dtype=np.float64)
        n = len(x)
        codisp = np.full(n, np.nan)
        valid = np.isfinite(x).all(axis=1)
        forest = self._forest
        for i in np.flatnonzero(valid).tolist():
            codisp[i] = forest.update(x[i])
        status = np.where(codisp > self.threshold, ERROR_IDX, OK_IDX).astype(np.int16)
        status[~valid] = UNDEFINED_IDX
        score = np.where(valid, codisp / (codisp + self.threshold), 0.0)
        score = np.nan_to_num(score, nan=0.0)
        return DetectorOutput(status, score, {"codisp": codisp})


REGISTER = {"RRCF": RRCF}
ALIASES = {"RRCF_trees": "RRCF"}
