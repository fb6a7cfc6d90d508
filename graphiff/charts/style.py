"""How each entity label looks on every link chart (defined once, used by every format).

A :class:`Style` gives a colour plus a shape/icon in the vocabulary of each target:

- ``shape``: a Cytoscape.js node shape (HTML page, Cytoscape JSON),
- ``marker``: a matplotlib marker (PNG/SVG),
- ``i2_icon``: the icon file name of i2 Analyst's Notebook's standard palette (ANX),
- ``glyph``: a short text symbol for legends.

Alerts are drawn larger and in red everywhere; nodes flagged by an alert get a red border.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    colour: str       # "#rrggbb"
    shape: str        # cytoscape.js shape
    marker: str       # matplotlib marker
    i2_icon: str      # i2 ANB icon file name
    glyph: str        # legend symbol
    size: int = 26    # base node diameter in px (HTML)


#: Border colour of a node flagged by an alert, and of the alert itself.
ALERT_COLOUR = "#d62728"
FLAGGED_BORDER = "#d62728"

STYLES: dict[str, Style] = {
    "Trader":      Style("#1f77b4", "round-rectangle", "s", "Organisation", "\u25a0", 30),
    "Person":      Style("#2ca02c", "ellipse", "o", "Person", "\u25cf", 28),
    "Carrier":     Style("#8c564b", "barrel", "P", "Lorry", "\u271a", 28),
    "Declaration": Style("#ff7f0e", "rectangle", "D", "Document", "\u25c6", 22),
    "BankAccount": Style("#17becf", "hexagon", "h", "Bank Account", "\u2b22", 26),
    "Payment":     Style("#bcbd22", "diamond", "d", "Cash", "\u25c7", 22),
    "CashReport":  Style("#e377c2", "tag", "p", "Cash", "\u2b1f", 24),
    "Conveyance":  Style("#7f7f7f", "vee", "v", "Ship", "\u25bc", 22),
    "Container":   Style("#9467bd", "cut-rectangle", "8", "Container", "\u25a3", 22),
    "Address":     Style("#aec7e8", "round-triangle", "^", "Place", "\u25b2", 20),
    "Phone":       Style("#98df8a", "round-diamond", "<", "Telephone", "\u260e", 18),
    "Email":       Style("#c5b0d5", "round-tag", ">", "Email", "\u2709", 18),
    "Country":     Style("#c49c94", "octagon", "H", "Country", "\u2691", 22),
    "Rate":        Style("#dbdb8d", "concave-hexagon", "X", "Exchange Rate", "\u00a4", 18),
    "Alert":       Style(ALERT_COLOUR, "star", "*", "Warning", "\u2605", 40),
}

DEFAULT_STYLE = Style("#999999", "ellipse", "o", "Anon", "\u25cb", 22)

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
