"""Node positions for link charts, computed once in Python (so a 5,000-node page opens fast).

Each connected component is laid out with Fruchterman-Reingold from python-igraph (exact for
small components, grid-accelerated above :data:`GRID_ABOVE` nodes), scaled so that a typical
relationship is about ``spacing`` long, and the components are then packed in rows, largest
first (isolated nodes end up in a tidy block instead of being flung to the edges).
Deterministic for a given subgraph.
"""
from __future__ import annotations

import math
import random

from graphiff.graph.subgraph import Subgraph

GRID_ABOVE = 400


def _component_layout(ig, n: int, edges: list[tuple[int, int]], spacing: float, rng: random.Random):
    """Positions (list of (x, y)) of one connected component with local vertex ids 0..n-1."""
    if n == 1:
        return [(0.0, 0.0)]
    if n == 2:
        return [(0.0, 0.0), (spacing, 0.0)]
    g = ig.Graph(n=n, edges=edges, directed=False)
    half = math.sqrt(n) / 2.0   # igraph's own default spread; wider starts make the grid slow
    start = [[rng.uniform(-half, half), rng.uniform(-half, half)] for _ in range(n)]
    if n <= GRID_ABOVE:
        coords = g.layout_fruchterman_reingold(seed=start, niter=500, grid="nogrid")
    else:
        coords = g.layout_fruchterman_reingold(seed=start, niter=300, grid="grid")
    xy = coords.coords
    lengths = sorted(math.dist(xy[a], xy[b]) for a, b in edges)
    median = lengths[len(lengths) // 2] if lengths else 0.0
    factor = spacing / median if median > 1e-9 else spacing
    # dense cores (grid layout of big components) get spread to about `spacing` per node
    xs = [p[0] for p in xy]
    ys = [p[1] for p in xy]
    w = max((max(xs) - min(xs)) * factor, spacing)
    h = max((max(ys) - min(ys)) * factor, spacing)
    min_area = n * (spacing * 0.9) ** 2
    if w * h < min_area:
        factor *= min(math.sqrt(min_area / (w * h)), 4.0)
    return [(p[0] * factor, p[1] * factor) for p in xy]


def layout_positions(sub: Subgraph, *, spacing: float = 70.0, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Node id -> ``(x, y)`` in chart units (about ``spacing`` between neighbours), centred on 0.

    y grows downwards (screen convention, as in Cytoscape.js and i2).
    """
    import igraph as ig

    ids = [n.id for n in sub.nodes]
    n = len(ids)
    if n == 0:
        return {}
    index = {nid: i for i, nid in enumerate(ids)}
    pairs = sorted({
        (min(a, b), max(a, b))
        for e in sub.edges
        if (a := index.get(e.source)) is not None and (b := index.get(e.target)) is not None and a != b
    })
    whole = ig.Graph(n=n, edges=pairs, directed=False)
    components = sorted(whole.connected_components(), key=lambda c: (-len(c), c[0]))
    comp_of = [0] * n
    local = [0] * n
    for ci, comp in enumerate(components):
        for i, v in enumerate(comp):
            comp_of[v] = ci
            local[v] = i
    comp_edges: list[list[tuple[int, int]]] = [[] for _ in components]
    for a, b in pairs:
        comp_edges[comp_of[a]].append((local[a], local[b]))

    rng = random.Random(seed)
    ig.set_random_number_generator(random.Random(seed))
    blocks: list[tuple[list[int], list[tuple[float, float]]]] = []
    isolated: list[int] = []
    try:
        for ci, comp in enumerate(components):
            if len(comp) == 1:
                isolated.append(comp[0])
            else:
                blocks.append((comp, _component_layout(ig, len(comp), comp_edges[ci], spacing, rng)))
    finally:
        ig.set_random_number_generator(random)
    if isolated:
        cols = max(1, math.ceil(math.sqrt(len(isolated))))
        blocks.append((isolated, [((i % cols) * spacing * 0.8, (i // cols) * spacing * 0.8)
                                  for i in range(len(isolated))]))

    # shelf packing: rows of blocks, largest first, row width about the square root of the area
    gap = spacing * 1.2
    boxes = []
    for verts, xy in blocks:
        xs = [p[0] for p in xy]
        ys = [p[1] for p in xy]
        boxes.append((verts, xy, min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)))
    area = sum((w + gap) * (h + gap) for *_, w, h in boxes)
    row_width = max(max(w for *_, w, _h in boxes), math.sqrt(area) * 1.15)
    out: dict[str, tuple[float, float]] = {}
    x0 = y0 = row_h = 0.0
    for verts, xy, mx, my, w, h in boxes:
        if x0 > 0 and x0 + w > row_width:
            x0, y0, row_h = 0.0, y0 + row_h + gap, 0.0
        for v, (x, y) in zip(verts, xy):
            out[ids[v]] = (x - mx + x0, y - my + y0)
        x0 += w + gap
        row_h = max(row_h, h)
    cx = sum(p[0] for p in out.values()) / n
    cy = sum(p[1] for p in out.values()) / n
    final = {nid: (round(x - cx, 1), round(y - cy, 1)) for nid, (x, y) in out.items()}
    return _separate_twins(final, ids, spacing)


def _separate_twins(pos: dict[str, tuple[float, float]], ids: list[str], spacing: float):
    """Nodes that landed on (almost) the same spot (e.g. two leaves of one hub) are put on a small
    circle around it, so none hides another."""
    cell = max(spacing * 0.05, 0.5)
    groups: dict[tuple[int, int], list[str]] = {}
    for nid in ids:
        x, y = pos[nid]
        groups.setdefault((round(x / cell), round(y / cell)), []).append(nid)
    for members in groups.values():
        if len(members) < 2:
            continue
        x0, y0 = pos[members[0]]
        r = spacing * 0.35
        for k, nid in enumerate(members):
            a = 2 * math.pi * k / len(members)
            pos[nid] = (round(x0 + r * math.cos(a), 1), round(y0 + r * math.sin(a), 1))
    return pos

