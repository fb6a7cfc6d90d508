"""How each entity label looks on every link chart (defined once, used by every format).

A :class:`Style` gives a colour plus a shape/icon in the vocabulary of each target:

- ``shape``: a Cytoscape.js node shape (HTML page, Cytoscape JSON),
- ``marker``: a matplotlib marker (PNG/SVG),
- ``i2_icon``: the icon file name of i2 Analyst's Notebook's standard palette (ANX),

The HTML legend draws each label's swatch as an SVG path of the very shape Cytoscape.js draws
(:func:`swatch_path`, same corner points, roundings and cuts), so legend and nodes always agree.

Alerts are drawn larger and in red everywhere; nodes flagged by an alert get a red border.

Relationships are thin grey arrows, except the ones :data:`EDGE_STYLES` names
(:func:`edge_style_name`): ``FLAGS`` (red dashes) and ``SAME_AS`` -- entity resolution's
judgement that two records are one entity, drawn in the records as loaded (``--unresolved``):
purple dashes labelled "same as" (linked, confirmed), dots labelled "same as?" (review, unsure),
grey dots labelled "not the same" (rejected), without arrow heads (the relation is symmetric).
The aggregated links of the analyst's view (:mod:`graphiff.graph.view`) are thick arrows: teal
``TRADED_WITH`` (exporter -> importer), green ``PAID`` (sending -> receiving account), captioned
with what they stand for (:func:`aggregate_caption`: "3 × USD 1.2M, 2024-01-10 – 2024-03-01").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Style:
    colour: str       # "#rrggbb"
    shape: str        # cytoscape.js shape
    marker: str       # matplotlib marker
    i2_icon: str      # i2 ANB icon file name
    size: int = 26    # base node diameter in px (HTML)


#: Border colour of a node flagged by an alert, and of the alert itself.
ALERT_COLOUR = "#d62728"
FLAGGED_BORDER = "#d62728"

STYLES: dict[str, Style] = {
    "Trader":      Style("#1f77b4", "round-rectangle", "s", "Organisation", 30),
    "Person":      Style("#2ca02c", "ellipse", "o", "Person", 28),
    "Carrier":     Style("#8c564b", "barrel", "P", "Lorry", 28),
    "Declaration": Style("#ff7f0e", "rectangle", "D", "Document", 22),
    "BankAccount": Style("#17becf", "hexagon", "h", "Bank Account", 26),
    "Payment":     Style("#bcbd22", "diamond", "d", "Cash", 22),
    "CashReport":  Style("#e377c2", "tag", "p", "Cash", 24),
    "Conveyance":  Style("#7f7f7f", "vee", "v", "Ship", 22),
    "Container":   Style("#9467bd", "cut-rectangle", "8", "Container", 22),
    "Address":     Style("#aec7e8", "round-triangle", "^", "Place", 20),
    "Phone":       Style("#98df8a", "round-diamond", "<", "Telephone", 18),
    "Email":       Style("#c5b0d5", "round-tag", ">", "Email", 18),
    "Country":     Style("#c49c94", "octagon", "H", "Country", 22),
    "Rate":        Style("#dbdb8d", "concave-hexagon", "X", "Exchange Rate", 18),
    "Alert":       Style(ALERT_COLOUR, "star", "*", "Warning", 40),
}

DEFAULT_STYLE = Style("#999999", "ellipse", "o", "Anon", 22)


@dataclass(frozen=True)
class EdgeStyle:
    """How one kind of relationship is drawn: ``colour``, ``line`` (``solid``, ``dashed`` or
    ``dotted``), ``width`` (px on the HTML page), ``caption`` (text drawn on the line; ``None``:
    none) and ``arrow`` (``False`` for a symmetric relation)."""

    colour: str
    line: str = "solid"
    width: float = 1.2
    caption: str | None = None
    arrow: bool = True
    legend: str | None = None     # what a legend calls it (default: the relationship type)


#: The look of a plain relationship.
DEFAULT_EDGE_STYLE = EdgeStyle("#b5b5b5")
#: The relationships drawn otherwise, by style name (see :func:`edge_style_name`).
EDGE_STYLES: dict[str, EdgeStyle] = {
    "flags": EdgeStyle(ALERT_COLOUR, "dashed", 1.6),
    "same-as": EdgeStyle("#6a3d9a", "dashed", 2.0, "same as", arrow=False),
    "same-as-open": EdgeStyle("#6a3d9a", "dotted", 1.6, "same as?", arrow=False),
    "not-same": EdgeStyle("#7f7f7f", "dotted", 1.2, "not the same", arrow=False),
    "traded-with": EdgeStyle("#00897b", "solid", 3.2, "traded with", legend="TRADED_WITH (trade)"),
    "paid": EdgeStyle("#2e9e44", "solid", 3.2, "paid", legend="PAID (payments)"),
}
#: aggregated link type (model.yaml ``aggregates``) -> style name
AGGREGATE_STYLES = {"TRADED_WITH": "traded-with", "PAID": "paid"}
#: SAME_AS status -> style name (a status not listed draws as ``same-as-open``).
SAME_AS_STYLES = {"linked": "same-as", "confirmed": "same-as", "review": "same-as-open", "unsure": "same-as-open",
                  "rejected": "not-same"}


def edge_style_name(rel_type: str, props: Mapping[str, Any] | None = None) -> str | None:
    """The :data:`EDGE_STYLES` name of a relationship (``None``: a plain one).

    >>> edge_style_name("SAME_AS", {"status": "rejected"}), edge_style_name("FLAGS"), edge_style_name("HOLDS")
    ('not-same', 'flags', None)
    >>> edge_style_name("TRADED_WITH", {"count": 2})
    'traded-with'
    """
    if rel_type == "FLAGS":
        return "flags"
    if rel_type in AGGREGATE_STYLES:
        return AGGREGATE_STYLES[rel_type]
    if rel_type == "SAME_AS":
        return SAME_AS_STYLES.get(str((props or {}).get("status") or ""), "same-as-open")
    return None


def edge_style(rel_type: str, props: Mapping[str, Any] | None = None) -> EdgeStyle:
    """The :class:`EdgeStyle` of a relationship."""
    name = edge_style_name(rel_type, props)
    return EDGE_STYLES[name] if name else DEFAULT_EDGE_STYLE


def edge_caption(rel_type: str, props: Mapping[str, Any] | None = None) -> str:
    """What a chart writes on (or for) a relationship: an aggregated link's count, value and
    dates (:func:`aggregate_caption`), else its style's caption, else its type.

    >>> edge_caption("SAME_AS", {"status": "linked"}), edge_caption("EXPORTED")
    ('same as', 'EXPORTED')
    >>> edge_caption("PAID", {"count": 1, "value_usd": 9500.0, "first_date": "2024-02-01", "last_date": "2024-02-01"})
    '1 × USD 9,500, 2024-02-01'
    """
    if rel_type in AGGREGATE_STYLES and props and props.get("count") is not None:
        return aggregate_caption(props)
    return edge_style(rel_type, props).caption or rel_type


def usd_short(value: Any) -> str:
    """An amount in USD, short: ``USD 950``, ``USD 12.5k``, ``USD 1.2M``, ``USD 3.4B``; empty
    when it is not a number.

    >>> usd_short(1234567.0), usd_short(12500), usd_short(950.4), usd_short(None), usd_short(2.5e9)
    ('USD 1.2M', 'USD 12.5k', 'USD 950', '', 'USD 2.5B')
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if v != v or v in (float("inf"), float("-inf")):
        return ""
    for bound, unit, suffix in ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(v) >= bound:
            return f"USD {v / unit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"USD {v:,.0f}"


def date_range(first: Any, last: Any) -> str:
    """``first – last`` (one date when they are the same; empty when there is none).

    >>> date_range("2024-01-10", "2024-03-01"), date_range("2024-01-10", "2024-01-10"), date_range(None, None)
    ('2024-01-10 – 2024-03-01', '2024-01-10', '')
    """
    a, b = (str(x)[:10] if x not in (None, "") else "" for x in (first, last))
    if a and b and a != b:
        return f"{a} \u2013 {b}"
    return a or b


def aggregate_caption(props: Mapping[str, Any]) -> str:
    """The caption of an aggregated link (``TRADED_WITH``, ``PAID``): how many records, their
    total value, their date range -- ``3 × USD 1.2M, 2024-01-10 – 2024-03-01``.

    >>> aggregate_caption({"count": 3, "value_usd": 1.2e6, "first_date": "2024-01-10", "last_date": "2024-03-01"})
    '3 × USD 1.2M, 2024-01-10 – 2024-03-01'
    >>> aggregate_caption({"count": 2})
    '2 ×'
    """
    head = f"{props.get('count', '?')} \u00d7"
    money = usd_short(props.get("value_usd"))
    if money:
        head += f" {money}"
    dates = date_range(props.get("first_date"), props.get("last_date"))
    return f"{head}, {dates}" if dates else head

#: Legend / filter order (labels not listed come after, alphabetically).
LABEL_ORDER = list(STYLES)


def style_for(label: str) -> Style:
    """The style of an entity label (a neutral grey circle for labels outside the model)."""
    return STYLES.get(label, DEFAULT_STYLE)


def ordered_labels(labels) -> list[str]:
    """``labels`` in legend order: model order first, then any others alphabetically."""
    present = set(labels)
    known = [lab for lab in LABEL_ORDER if lab in present]
    return known + sorted(present.difference(LABEL_ORDER))


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` -> ``(r, g, b)``."""
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def hex_to_colorref(colour: str) -> int:
    """``"#rrggbb"`` -> Windows COLORREF (``0x00BBGGRR``), the colour integer of ANX files."""
    r, g, b = hex_to_rgb(colour)
    return (b << 16) | (g << 8) | r


# ------------------------------------------------------------------------------ legend swatches
# Cytoscape.js's node shapes, ported from its renderer (``registerNodeShapes``): polygon corners
# in a unit square (-1..1, y down); rounded shapes round those corners, ``cut-rectangle`` cuts
# them. Corner sizes are pixels of the node, so a swatch depends on the node's size too.

#: Side of a legend swatch (SVG ``viewBox="0 0 20 20"``) and the half-side the shape fills.
SWATCH_BOX = 20
_HALF = 9.0


def _ngon(n: int, rotation: float = 0.0) -> list[tuple[float, float]]:
    """Cytoscape's ``generateUnitNgonPoints``."""
    step = 2 * math.pi / n
    start = (math.pi / 2 + step / 2 if n % 2 == 0 else math.pi / 2) + rotation
    return [(math.cos(start + i * step), math.sin(-(start + i * step))) for i in range(n)]


def _fit(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Cytoscape's ``fitPolygonToSquare``: stretch to a 2x2 box, top edge at y = -1."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    sx, sy = 2 / (max(xs) - min(xs)), 2 / (max(ys) - min(ys))
    pts = [(x * sx, y * sy) for x, y in points]
    low = min(y for _, y in pts)
    return [(x, y + (-1 - low)) for x, y in pts] if low < -1 else pts


def _star() -> list[tuple[float, float]]:
    outer, inner = _ngon(5), _ngon(5, math.pi / 5)
    k = 0.5 * (3 - math.sqrt(5)) * 1.57
    pts: list[tuple[float, float]] = []
    for (ox, oy), (ix, iy) in zip(outer, inner):
        pts += [(ox, oy), (ix * k, iy * k)]
    return _fit(pts)


def _pairs(flat: list[float]) -> list[tuple[float, float]]:
    return list(zip(flat[0::2], flat[1::2]))


_TAG = _pairs([-1, -1, 0.25, -1, 1, 0, 0.25, 1, -1, 1])
_DIAMOND = _pairs([0, 1, 1, 0, 0, -1, -1, 0])

#: Straight-cornered polygons.
POLYGONS: dict[str, list[tuple[float, float]]] = {
    "triangle": _fit(_ngon(3)),
    "rectangle": _fit(_ngon(4)),
    "square": _fit(_ngon(4)),
    "diamond": _DIAMOND,
    "pentagon": _fit(_ngon(5)),
    "hexagon": _fit(_ngon(6)),
    "heptagon": _fit(_ngon(7)),
    "octagon": _fit(_ngon(8)),
    "star": _star(),
    "vee": _pairs([-1, -1, 0, -0.333, 1, -1, 0, 1]),
    "rhomboid": _pairs([-1, -1, 0.333, -1, 1, 1, -0.333, 1]),
    "right-rhomboid": _pairs([-0.333, -1, 1, -1, 0.333, 1, -1, 1]),
    "concave-hexagon": _pairs([-1, -0.95, -0.75, 0, -1, 0.95, 1, 0.95, 0.75, 0, 1, -0.95]),
    "tag": _TAG,
}
#: Polygons with rounded corners (radius ``min(size / 10, 8)`` px, as Cytoscape's "auto").
ROUND_POLYGONS: dict[str, list[tuple[float, float]]] = {
    "round-triangle": POLYGONS["triangle"],
    "round-diamond": _DIAMOND,
    "round-pentagon": POLYGONS["pentagon"],
    "round-hexagon": POLYGONS["hexagon"],
    "round-heptagon": POLYGONS["heptagon"],
    "round-octagon": POLYGONS["octagon"],
    "round-tag": _TAG,
}
#: Every shape :func:`swatch_path` can draw.
SWATCH_SHAPES = sorted({*POLYGONS, *ROUND_POLYGONS, "ellipse", "round-rectangle", "cut-rectangle", "barrel"})


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _xy(x: float, y: float) -> str:
    return f"{_num(x)},{_num(y)}"


def _box(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Unit points -> swatch coordinates."""
    c = SWATCH_BOX / 2
    return [(c + _HALF * x, c + _HALF * y) for x, y in points]


def _polygon_path(pts: list[tuple[float, float]]) -> str:
    return "M" + "L".join(_xy(x, y) for x, y in pts) + "Z"


def _rounded_path(pts: list[tuple[float, float]], radius: float) -> str:
    """A polygon whose corners are rounded (a quadratic curve from ``radius`` before to after)."""
    out = []
    n = len(pts)
    for i, (vx, vy) in enumerate(pts):
        ends = []
        for qx, qy in (pts[i - 1], pts[(i + 1) % n]):
            d = math.hypot(qx - vx, qy - vy)
            r = min(radius, d / 2)
            ends.append((vx + (qx - vx) * r / d, vy + (qy - vy) * r / d))
        (ax, ay), (bx, by) = ends
        out.append(f"{'M' if i == 0 else 'L'}{_xy(ax, ay)}Q{_xy(vx, vy)} {_xy(bx, by)}")
    return "".join(out) + "Z"


def swatch_path(shape: str, size: int = 26) -> str:
    """The SVG path (``viewBox="0 0 20 20"``) of the Cytoscape.js ``shape`` of a ``size`` px node.

    The legend of the HTML chart draws this, so its swatch is the shape drawn on the chart.
    Raises ``KeyError`` for a shape it does not know.
    """
    px = 2 * _HALF / size                     # swatch units per node pixel
    lo, hi = SWATCH_BOX / 2 - _HALF, SWATCH_BOX / 2 + _HALF
    if shape == "ellipse":
        r, c = _num(_HALF), _num(SWATCH_BOX / 2)
        return f"M{_num(lo)},{c}A{r},{r} 0 1,0 {_num(hi)},{c}A{r},{r} 0 1,0 {_num(lo)},{c}Z"
    if shape in POLYGONS:
        return _polygon_path(_box(POLYGONS[shape]))
    if shape in ROUND_POLYGONS:
        return _rounded_path(_box(ROUND_POLYGONS[shape]), min(size / 10, 8) * px)
    if shape == "round-rectangle":
        return _rounded_path(_box(POLYGONS["rectangle"]), min(size / 4, 8) * px)
    if shape == "cut-rectangle":
        cut = min(8 * px, _HALF)
        return _polygon_path([(lo + cut, lo), (hi - cut, lo), (hi, lo + cut), (hi, hi - cut),
                              (hi - cut, hi), (lo + cut, hi), (lo, hi - cut), (lo, lo + cut)])
    if shape == "barrel":                    # cytoscape's generateBarrelBezierPts
        w = 2 * _HALF
        dh, dw, ctrl = min(15 * px, 0.05 * w), min(100 * px, 0.25 * w), 0.05 * w
        return (f"M{_xy(lo, lo + dh)}Q{_xy(lo + ctrl, lo)} {_xy(lo + dw, lo)}"
                f"L{_xy(hi - dw, lo)}Q{_xy(hi - ctrl, lo)} {_xy(hi, lo + dh)}"
                f"L{_xy(hi, hi - dh)}Q{_xy(hi - ctrl, hi)} {_xy(hi - dw, hi)}"
                f"L{_xy(lo + dw, hi)}Q{_xy(lo + ctrl, hi)} {_xy(lo, hi - dh)}Z")
    raise KeyError(f"no legend swatch for the Cytoscape shape {shape!r}")
