"""Static link-chart pictures (PNG and SVG) drawn with matplotlib (Agg, no pyplot, no display).

Nodes are coloured and shaped by entity label (``style.py``), alerts are red stars, nodes
flagged by an alert get a red ring, ``FLAGS`` relationships are red dashes, ``SAME_AS`` ones
purple dashes or grey dots (``style.EDGE_STYLES``). Captions are
truncated and drawn for at most :data:`LABEL_CAP` nodes (alerts, seeds and flagged nodes first,
then the best connected), so large charts stay readable. Text is never parsed as mathtext, and
SVG keeps text as (escaped) text.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from graphiff.charts.base import (
    flagged_by,
    label_counts,
    omitted_note,
    truncate,
    valid_edges,
)
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import (
    EDGE_STYLES,
    FLAGGED_BORDER,
    edge_style_name,
    ordered_labels,
    style_for,
)
from graphiff.graph.subgraph import Subgraph
from graphiff.model.cells import clean_text, plain_value

LABEL_CAP = 60
CAPTION_CHARS = 24


def _figure(sub: Subgraph):
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    n = len(sub.nodes)
    pos = layout_positions(sub)
    edges = valid_edges(sub)
    flags = flagged_by(sub)
    seeds = set(sub.seeds)

    big = n > 300
    fig = Figure(figsize=(14, 10) if n > 60 else (11, 8), dpi=150)
    ax = fig.add_axes((0.01, 0.02, 0.80, 0.86))
    ax.set_axis_off()

    # node size (points^2) and line widths shrink as the chart grows
    scale = 1.0 if n <= 60 else 0.6 if n <= 300 else 0.3 if n <= 2000 else 0.18
    xy = {nid: (x, -y) for nid, (x, y) in pos.items()}   # layout y points down, matplotlib up

    plain: list[tuple[tuple[float, float], tuple[float, float]]] = []
    styled: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {}
    for e in edges:
        seg = (xy[e.source], xy[e.target])
        name = edge_style_name(e.type, e.props)
        (styled.setdefault(name, []) if name else plain).append(seg)
    if plain:
        ax.add_collection(LineCollection(plain, colors="#9a9a9a", linewidths=max(0.2, 0.9 * scale),
                                         alpha=0.6 if big else 0.8, zorder=1))
    for name, segs in sorted(styled.items()):
        look = EDGE_STYLES[name]
        ax.add_collection(LineCollection(segs, colors=look.colour, linewidths=max(0.4, 1.3 * scale * look.width / 1.6),
                                         linestyles=look.line, zorder=2))

    counts = label_counts(sub.nodes)
    for label in ordered_labels(counts):
        st = style_for(label)
        members = [nd for nd in sub.nodes if nd.label == label]
        xs = [xy[nd.id][0] for nd in members]
        ys = [xy[nd.id][1] for nd in members]
        size = (st.size * (1.6 if label == "Alert" else 1.0) * scale) ** 2 * 0.45
        edgecolors = [FLAGGED_BORDER if nd.id in flags else "#7a0000" if label == "Alert" else "#333333"
                      for nd in members]
        widths = [2.2 * max(scale, 0.5) if nd.id in flags else 0.4 for nd in members]
        ax.scatter(xs, ys, s=size, c=st.colour, marker=st.marker, edgecolors=edgecolors, linewidths=widths,
                   zorder=5 if label == "Alert" else 3)

    # captions for the most important nodes only
    degree: dict[str, int] = {}
    for e in edges:
        degree[e.source] = degree.get(e.source, 0) + 1
        degree[e.target] = degree.get(e.target, 0) + 1

    def priority(nd):
        return (nd.label != "Alert", not (nd.id in seeds or nd.key in seeds), nd.id not in flags,
                -degree.get(nd.id, 0), nd.id)

    chosen = sorted(sub.nodes, key=priority)[:LABEL_CAP] if n > LABEL_CAP else sub.nodes
    fontsize = 7 if n <= 60 else 6 if n <= 300 else 5
    for nd in chosen:
        x, y = xy[nd.id]
        caption = truncate(clean_text(plain_value(nd.caption) or nd.key), CAPTION_CHARS)
        ax.annotate(caption, (x, y), xytext=(0, -7 - 4 * scale), textcoords="offset points", ha="center",
                    va="top", fontsize=fontsize, color="#a00000" if nd.label == "Alert" else "#222222",
                    parse_math=False, zorder=6, annotation_clip=False,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.04)

    handles = []
    for label in ordered_labels(counts):
        st = style_for(label)
        handles.append(Line2D([], [], linestyle="none", marker=st.marker, markersize=9 if label == "Alert" else 7,
                              markerfacecolor=st.colour, markeredgecolor="#333333",
                              label=clean_text(f"{label} ({counts[label]})")))
    if flags:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor="white",
                              markeredgecolor=FLAGGED_BORDER, markeredgewidth=2, label="flagged by an alert"))
    for name in sorted(styled):
        look = EDGE_STYLES[name]
        handles.append(Line2D([], [], color=look.colour, linestyle=look.line,  # type: ignore[arg-type]
                              label="FLAGS" if name == "flags" else f"SAME_AS: {look.caption}"))
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.815, 0.88), frameon=False,
                        fontsize=8, title="Entities", title_fontsize=9)
    for t in legend.get_texts():
        t.set_parse_math(False)

    fig.suptitle(truncate(clean_text(sub.title), 110), x=0.01, y=0.975, ha="left", fontsize=14,
                 fontweight="bold", parse_math=False)
    sub_line = f"{n} nodes \u00b7 {len(edges)} relationships \u00b7 {omitted_note(sub)}"
    if n > LABEL_CAP:
        sub_line += f" Captions shown for {LABEL_CAP} nodes."
    fig.text(0.01, 0.925, clean_text(sub_line), ha="left", fontsize=8.5, color="#555555", parse_math=False)
    return fig


def _save(sub: Subgraph, out: Path, fmt: str) -> None:
    import matplotlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # missing glyphs for exotic scripts
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "graphiff", "path.simplify": True}):
            fig = _figure(sub)
            metadata = {"Date": None} if fmt == "svg" else None
            fig.savefig(out, format=fmt, metadata=metadata, facecolor="white")


def write_png(sub: Subgraph, out: Path) -> None:
    """Write ``sub`` as a PNG picture (about 2100x1500 px for large charts) to ``out``."""
    _save(sub, Path(out), "png")


def write_svg(sub: Subgraph, out: Path) -> None:
    """Write ``sub`` as an SVG picture (text kept as text) to ``out``."""
    _save(sub, Path(out), "svg")
