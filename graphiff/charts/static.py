"""Static link-chart pictures (PNG and SVG) drawn with matplotlib (Agg, no pyplot, no display).

Nodes are coloured and shaped by entity label (``style.py``), alerts are red stars, nodes
flagged by an alert get a red ring, ``FLAGS`` relationships are red dashes, ``SAME_AS`` ones
purple dashes or grey dots, aggregated ``TRADED_WITH`` / ``PAID`` links thick teal / green
arrows captioned "3 × USD 1.2M, 2024-01-10 – 2024-03-01" (at most :data:`EDGE_CAPTION_CAP`
of them; ``style.EDGE_STYLES``). Hubs (shown, not walked through) are named in the line under
the title, beside what the node cap left out. Captions are
truncated and drawn for at most :data:`LABEL_CAP` nodes (alerts, seeds and flagged nodes first,
then the best connected), so large charts stay readable. Text is never parsed as mathtext, and
SVG keeps text as (escaped) text.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from graphiff.charts.base import (
    flagged_by,
    hubs_note,
    label_counts,
    omitted_note,
    truncate,
    valid_edges,
)
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import (
    AGGREGATE_STYLES,
    EDGE_STYLES,
    FLAGGED_BORDER,
    edge_caption,
    edge_style_name,
    ordered_labels,
    style_for,
)
from graphiff.graph.subgraph import Subgraph
from graphiff.model.cells import drawn_text, plain_value

LABEL_CAP = 60
CAPTION_CHARS = 24
#: aggregated links drawn as arrows with their caption, at most (the others as lines)
EDGE_CAPTION_CAP = 60


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
    arrows = [e for e in edges if e.type in AGGREGATE_STYLES and e.source != e.target][:EDGE_CAPTION_CAP]
    as_arrow = {id(e) for e in arrows}
    for e in edges:
        seg = (xy[e.source], xy[e.target])
        name = edge_style_name(e.type, e.props)
        if name and id(e) in as_arrow:
            styled.setdefault(name, [])           # in the legend; drawn as an arrow below
            continue
        (styled.setdefault(name, []) if name else plain).append(seg)
    if plain:
        ax.add_collection(LineCollection(plain, colors="#9a9a9a", linewidths=max(0.2, 0.9 * scale),
                                         alpha=0.6 if big else 0.8, zorder=1))
    for name, segs in sorted(styled.items()):
        look = EDGE_STYLES[name]
        if segs:
            ax.add_collection(LineCollection(segs, colors=look.colour,
                                             linewidths=max(0.4, 1.3 * scale * look.width / 1.6),
                                             linestyles=look.line, zorder=2))
    # aggregated links: directed arrows (a circular trade reads A -> B -> C -> A) with their caption
    fontsize_edge = 6 if n <= 60 else 5
    for e in arrows:
        look = EDGE_STYLES[AGGREGATE_STYLES[e.type]]
        (x1, y1), (x2, y2) = xy[e.source], xy[e.target]
        ax.annotate("", xy=(x2, y2), xytext=(x1, y1), zorder=2, annotation_clip=False,
                    arrowprops={"arrowstyle": "-|>", "color": look.colour, "shrinkA": 9, "shrinkB": 9,
                                "lw": max(0.6, 1.3 * scale * look.width / 1.6), "mutation_scale": 12,
                                "connectionstyle": "arc3,rad=0.12"})
        ax.annotate(truncate(drawn_text(edge_caption(e.type, e.props)), 48), ((x1 + x2) / 2, (y1 + y2) / 2),
                    ha="center", va="center", fontsize=fontsize_edge, color=look.colour, parse_math=False,
                    zorder=4, annotation_clip=False,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})

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
        caption = truncate(drawn_text(plain_value(nd.caption) or nd.key), CAPTION_CHARS)
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
                              label=drawn_text(f"{label} ({counts[label]})")))
    if flags:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor="white",
                              markeredgecolor=FLAGGED_BORDER, markeredgewidth=2, label="flagged by an alert"))
    for name in sorted(styled):
        look = EDGE_STYLES[name]
        handles.append(Line2D([], [], color=look.colour, linestyle=look.line,  # type: ignore[arg-type]
                              linewidth=min(3.0, look.width),
                              label=look.legend or ("FLAGS" if name == "flags" else f"SAME_AS: {look.caption}")))
    legend = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.815, 0.88), frameon=False,
                        fontsize=8, title="Entities", title_fontsize=9)
    for t in legend.get_texts():
        t.set_parse_math(False)

    fig.suptitle(truncate(drawn_text(sub.title), 110), x=0.01, y=0.975, ha="left", fontsize=14,
                 fontweight="bold", parse_math=False)
    sub_line = f"{n} nodes \u00b7 {len(edges)} relationships \u00b7 {omitted_note(sub)}"
    if sub.hubs:
        sub_line += " " + truncate(hubs_note(sub, limit=3), 160)
    if n > LABEL_CAP:
        sub_line += f" Captions shown for {LABEL_CAP} nodes."
    fig.text(0.01, 0.925, drawn_text(sub_line), ha="left", fontsize=8.5, color="#555555", parse_math=False)
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
