"""The compiled part of RRCF (``detectors/rrcf.py``, ``RandomCutForest``): every tree advanced by
one point at a time. The walks are pointer chasing, about a microsecond a node in Python."""
from __future__ import annotations

from numba import njit

#: Slots of ``RandomCutForest.state``, the scalars the kernel updates in place. They live here,
#: with the code compiled against them: numba's cache notices changes to this file only.
INDEX, POINTS, FREE_BRANCH_TOP, FREE_LEAF_TOP, NEXT_UNIFORM = range(5)


@njit(cache=True)
def advance(x, codisp, uniforms, state, worst_case_uniforms, left, right, parent, cut_dim, cut, count,
            lo, hi, root, free_branches, free_leaves, multiplicity, ring_leaf):
    """Advance the forest by the rows of ``x``, writing each row's mean codisp; returns how many
    rows were done (fewer than all when the uniforms run short: draw more and call again)."""
    num_trees, tree_size = free_branches.shape[0], free_leaves.shape[0]
    for i in range(x.shape[0]):
        if uniforms.shape[0] - state[NEXT_UNIFORM] < worst_case_uniforms:
            return i
        position = state[INDEX] % tree_size
        if state[POINTS] == tree_size:
            _forget(position, state, left, right, parent, count, lo, hi, root, free_branches, free_leaves,
                    multiplicity, ring_leaf)
        codisp[i] = _insert(x[i], position, uniforms, state, left, right, parent, cut_dim, cut, count, lo, hi,
                            root, free_branches, free_leaves, multiplicity, ring_leaf) / num_trees
        state[INDEX] += 1
    return x.shape[0]


@njit(cache=True)
def _forget(position, state, left, right, parent, count, lo, hi, root, free_branches, free_leaves,
            multiplicity, ring_leaf):
    num_trees, tree_size = free_branches.shape[0], free_leaves.shape[0]
    none = parent.shape[0] - 1
    slot = ring_leaf[position]
    state[POINTS] -= 1
    if multiplicity[slot] > 1:      # a duplicate: one point fewer in its leaf and above it
        multiplicity[slot] -= 1
        for t in range(num_trees):
            node = t * 2 * tree_size + slot
            while node != none:
                count[node] -= 1
                node = parent[node]
        return
    multiplicity[slot] = 0
    free_leaves[state[FREE_LEAF_TOP]] = slot
    state[FREE_LEAF_TOP] += 1
    if parent[slot] == none:        # it was the only point (tree 0's leaf slot is the slot)
        root[:] = none
        return
    point = lo[slot]
    for t in range(num_trees):
        offset = t * 2 * tree_size
        leaf = offset + slot
        branch = parent[leaf]
        sibling = right[branch] if left[branch] == leaf else left[branch]
        above = parent[branch]
        parent[sibling] = above
        if above == none:
            root[t] = sibling
        elif left[above] == branch:
            left[above] = sibling
        else:
            right[above] = sibling
        free_branches[t, state[FREE_BRANCH_TOP]] = branch - offset
        # every ancestor: one point fewer; boxes that had the point on their boundary shrink to
        # the union of their children (once a box has it strictly inside, so have all above)
        relax = True
        node = above
        while node != none:
            count[node] -= 1
            if relax:
                relax = _on_boundary(lo[node], hi[node], point)
                if relax:
                    a, b = left[node], right[node]
                    for k in range(lo.shape[1]):
                        lo[node, k] = min(lo[a, k], lo[b, k])
                        hi[node, k] = max(hi[a, k], hi[b, k])
            node = parent[node]
    state[FREE_BRANCH_TOP] += 1


@njit(cache=True)
def _on_boundary(lo, hi, point):
    for k in range(point.shape[0]):
        if lo[k] == point[k] or hi[k] == point[k]:
            return True
    return False


@njit(cache=True)
def _insert(x, position, uniforms, state, left, right, parent, cut_dim, cut, count, lo, hi, root,
            free_branches, free_leaves, multiplicity, ring_leaf):
    """Insert ``x``; returns its codisp summed over the trees."""
    num_trees, tree_size = free_branches.shape[0], free_leaves.shape[0]
    none = parent.shape[0] - 1
    dim = x.shape[0]
    state[POINTS] += 1
    # a point equal to one in the trees reaches that point's leaf by the cuts (-0.0 == 0.0)
    node = root[0]
    if node != none:
        while node >= tree_size:
            node = left[node] if x[cut_dim[node]] <= cut[node] else right[node]
        same = True
        for k in range(dim):
            if lo[node, k] != x[k]:
                same = False
        if same:
            multiplicity[node] += 1
            ring_leaf[position] = node
            total = 0.0
            for t in range(num_trees):
                leaf = t * 2 * tree_size + node
                ancestor = leaf
                while ancestor != none:
                    count[ancestor] += 1
                    ancestor = parent[ancestor]
                total += _codisp(leaf, left, right, parent, count)
            return total
    state[FREE_LEAF_TOP] -= 1
    slot = free_leaves[state[FREE_LEAF_TOP]]
    multiplicity[slot] = 1
    ring_leaf[position] = slot
    first = root[0] == none
    if not first:
        state[FREE_BRANCH_TOP] -= 1
    total = 0.0
    for t in range(num_trees):
        offset = t * 2 * tree_size
        leaf = offset + slot
        for k in range(dim):
            lo[leaf, k] = x[k]
            hi[leaf, k] = x[k]
        count[leaf] = 1
        if first:                   # the first point: a lone leaf
            parent[leaf] = none
            root[t] = leaf
            continue
        # walk down until a cut drawn over the node's box extended by x separates x from the box
        node = root[t]
        above = none
        while True:
            span_sum = 0.0
            for k in range(dim):
                span_sum += max(hi[node, k], x[k]) - min(lo[node, k], x[k])
            r = uniforms[state[NEXT_UNIFORM]] * span_sum
            state[NEXT_UNIFORM] += 1
            q = dim - 1
            running = 0.0
            for k in range(dim):
                span = max(hi[node, k], x[k]) - min(lo[node, k], x[k])
                running += span
                if span > 0 and running >= r:   # span > 0: a cut never lies on a zero-width side
                    q = k
                    break
            c = min(lo[node, q], x[q]) + running - r
            if c <= lo[node, q] or c >= hi[node, q]:
                break
            above = node
            node = left[node] if x[cut_dim[node]] <= cut[node] else right[node]
        branch = offset + free_branches[t, state[FREE_BRANCH_TOP]]
        cut_dim[branch] = q
        cut[branch] = c
        if c <= lo[node, q]:
            left[branch], right[branch] = leaf, node
        else:
            left[branch], right[branch] = node, leaf
        parent[branch] = above
        parent[node] = branch
        parent[leaf] = branch
        if above == none:
            root[t] = branch
        elif left[above] == node:
            left[above] = branch
        else:
            right[above] = branch
        count[branch] = count[node] + 1
        for k in range(dim):
            lo[branch, k] = min(lo[node, k], x[k])
            hi[branch, k] = max(hi[node, k], x[k])
        ancestor = above
        while ancestor != none:
            count[ancestor] += 1
            for k in range(dim):
                lo[ancestor, k] = min(lo[ancestor, k], x[k])
                hi[ancestor, k] = max(hi[ancestor, k], x[k])
            ancestor = parent[ancestor]
        total += _codisp(leaf, left, right, parent, count)
    return total


@njit(cache=True)
def _codisp(leaf, left, right, parent, count):
    """The largest (sibling count / own count) on the path from ``leaf`` to the root."""
    none = parent.shape[0] - 1
    best = 0.0
    child = leaf
    node = parent[leaf]
    while node != none:
        sibling = right[node] if left[node] == child else left[node]
        ratio = count[sibling] / count[child]
        if ratio > best:
            best = ratio
        child = node
        node = parent[node]
    return best
