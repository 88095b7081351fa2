"""Poisson blending of a network's fill into the known pixels around it (Perez et al., SIGGRAPH 2003), as the
inpainting papers after Context Encoders post-process their fills (Iizuka et al. 2017, Yang et al. 2017).

Why: a context encoder decodes its whole window through a bottleneck, so its fill of a small hole carries the
right structure at the wrong colour (a blue sky hole painted olive), and the seam shows. Blending keeps the
fill's gradients and replaces its offset: the fill is shifted, inside the hole, by the harmonic function that
meets the true pixels at the hole's edge. Where the fill was right the shift is nothing.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

BLENDS = ("none", "poisson")  # how a model's fill meets the known pixels (chosen on val: hole_robustness --blends)
_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))
_ANCHOR = 1e-8  # ties a hole part that touches no known pixel to a shift of 0 (its system is otherwise singular)


def poisson_blend(fill: np.ndarray, known: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """`fill` (H, W, C float) with its `hole` pixels shifted by c, where c is harmonic in the hole and equals
    `known - fill` at every known pixel next to it (the window's edge is a free boundary). Pixels outside the
    hole are returned as they are."""
    rows, cols = np.nonzero(hole)
    out = fill.astype(np.float64)
    if rows.size == 0:
        return out
    h, w = hole.shape
    index = np.full((h, w), -1)
    index[rows, cols] = np.arange(rows.size)
    residual = known.astype(np.float64) - out
    degree = np.zeros(rows.size)
    rhs = np.zeros((rows.size, out.shape[-1]))
    links_from, links_to = [], []
    for dy, dx in _NEIGHBOURS:
        ny, nx = rows + dy, cols + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        ny, nx = ny[inside], nx[inside]
        me = np.nonzero(inside)[0]
        degree[me] += 1
        in_hole = hole[ny, nx]
        links_from.append(me[in_hole])
        links_to.append(index[ny[in_hole], nx[in_hole]])
        rhs[me[~in_hole]] += residual[ny[~in_hole], nx[~in_hole]]
    src, dst = np.concatenate(links_from), np.concatenate(links_to)
    n = rows.size
    matrix = sparse.csc_matrix((np.concatenate([degree + _ANCHOR, -np.ones(src.size)]),
                                (np.concatenate([np.arange(n), src]), np.concatenate([np.arange(n), dst]))),
                               shape=(n, n))
    out[rows, cols] += splu(matrix).solve(rhs)
    return out
