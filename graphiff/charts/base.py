"""What every link-chart format shares: the format registry, ``write_chart``, and small helpers.

Each format lives in its own module (``html``, ``anx``, ``graphml``, ``gexf``, ``cyjs``,
``static``) exposing ``write_<fmt>(sub: Subgraph, out: Path) -> None``; they are imported
lazily, so writing GraphML never imports matplotlib.

Escaping rules shared by all formats:

- XML writers (ANX, GraphML, GEXF, SVG) escape through their serialiser; :func:`clean_text`
  also removes the characters XML 1.0 cannot carry at all (C0 controls, lone surrogates), which
  would otherwise make the whole file unreadable.
- the HTML page embeds data as escaped JSON and only ever sets ``textContent``.
- anything that ends up in a spreadsheet cell goes through :func:`safe_cell`.

List properties (an aggregated link's ``record_ids`` and ``hs6``) are written as readable text,
``"; "``-joined (:func:`text_props`), by every format that wants one value per attribute.
Nodes above the hub limit (``Subgraph.hubs``: shown but not walked through) are noted on every
chart that shows notes (:func:`hubs_note`), beside what the node cap left out.
"""
from __future__ import annotations

import datetime as _dt
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from graphiff.errors import GraphiffError
from graphiff.graph.subgraph import Subgraph, SubNode
from graphiff.model.cells import clean_props, plain_value

#: Provenance properties carried by every node and relationship.

#: Node properties that can date an entity on a chart (first present wins).
NODE_DATE_FIELDS = ("date", "registration_date", "opened_date", "start_date", "month")
#: Relationship properties that can date a link.
EDGE_DATE_FIELDS = ("date", "start_date", "end_date")


@dataclass(frozen=True)
class ChartFormat:
    """One link-chart format: its name, file suffix and the (lazily imported) writer."""

    name: str
    suffix: str
    module: str
    function: str
    description: str

    @property
    def writer(self) -> Callable[[Subgraph, Path], None]:
        return getattr(importlib.import_module(self.module), self.function)


FORMATS: dict[str, ChartFormat] = {
    f.name: f
    for f in (
        ChartFormat("html", ".html", "graphiff.charts.html", "write_html",
                    "self-contained interactive page (offline, Cytoscape.js inlined)"),
        ChartFormat("anx", ".anx", "graphiff.charts.anx", "write_anx",
                    "i2 Analyst's Notebook exchange XML"),
        ChartFormat("graphml", ".graphml", "graphiff.charts.graphml", "write_graphml", "GraphML"),
        ChartFormat("gexf", ".gexf", "graphiff.charts.gexf", "write_gexf", "GEXF 1.2 (Gephi)"),
        ChartFormat("cyjs", ".cyjs", "graphiff.charts.cyjs", "write_cyjs", "Cytoscape JSON"),
        ChartFormat("png", ".png", "graphiff.charts.static", "write_png", "static picture (PNG)"),
        ChartFormat("svg", ".svg", "graphiff.charts.static", "write_svg", "static picture (SVG)"),
    )
}


def chart_formats() -> list[str]:
    """Names of the link-chart formats, in a stable order."""
    return list(FORMATS)


def write_chart(sub: Subgraph, fmt: str, out: str | Path) -> Path:
    """Write ``sub`` as a link chart in format ``fmt`` (a key of :data:`FORMATS`) to ``out``.

    If ``out`` is an existing directory, the file is named after the format inside it. The file
    is written to a temporary name and renamed, so a reader never sees half a chart. Returns the
    path written.
    """
    name = str(fmt).lower().lstrip(".")
    if name not in FORMATS:
        raise GraphiffError(f"unknown chart format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    spec = FORMATS[name]
    out = Path(out)
    if out.is_dir():
        out = out / f"chart{spec.suffix}"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        spec.writer(sub, tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


# --------------------------------------------------------------------------- text

def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "\u2026"



# --------------------------------------------------------------------------- chart semantics

def flagged_by(sub: Subgraph) -> dict[str, list[str]]:
    """Node id -> ids of the Alert nodes (in ``sub``) that flag it (``FLAGS`` relationships)."""
    alerts = {n.id for n in sub.nodes if n.label == "Alert"}
    out: dict[str, list[str]] = {}
    for e in sub.edges:
        if e.type == "FLAGS" and e.source in alerts and e.target != e.source:
            out.setdefault(e.target, []).append(e.source)
    return out


def item_date(props: dict[str, Any], fields: Iterable[str]) -> str | None:
    """The first ISO date (``YYYY-MM-DD``, or ``YYYY-MM`` as its first day) among ``fields``."""
    for f in fields:
        v = props.get(f)
        if v is None:
            continue
        v = plain_value(v)
        if not isinstance(v, str):
            continue
        m = re.match(r"(\d{4})-(\d{2})(?:-(\d{2}))?", v)
        if not m:
            continue
        try:
            d = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
        except ValueError:
            continue
        return d.isoformat()
    return None


def omitted_note(sub: Subgraph) -> str:
    """One line saying what the node cap left out (or that it left nothing out)."""
    parts = [f"{label} {count}" for label, count in sorted(sub.omitted.items()) if count]
    if not parts:
        return "Node cap: nothing left out."
    total = sum(c for c in sub.omitted.values() if c)
    return f"Node cap left out {total} node(s): " + ", ".join(parts) + "."


def plural(label: str, count: int) -> str:
    """``count`` nodes of ``label`` in words: ``3,400 declarations``, ``1 bank account``.

    >>> plural("Declaration", 3400), plural("BankAccount", 1), plural("Address", 2), plural("Country", 2)
    ('3,400 declarations', '1 bank account', '2 addresses', '2 countries')
    """
    word = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(label)).lower()
    if count != 1:
        if word.endswith(("s", "x", "sh", "ch")):
            word += "es"
        elif word.endswith("y") and not word.endswith(("ay", "ey", "oy", "uy")):
            word = word[:-1] + "ies"
        else:
            word += "s"
    return f"{count:,} {word}"


def hub_counts(counts: dict[str, int]) -> str:
    """A hub's neighbours in words, most first: ``3,400 declarations, 1 country``."""
    items = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(plural(k, v) for k, v in items)


def hubs_note(sub: Subgraph, limit: int = 5) -> str:
    """One line naming the nodes shown but not expanded because they are hubs (``sub.hubs``),
    with what they hold; empty when there are none.

    >>> from graphiff.graph.subgraph import SubNode
    >>> sub = Subgraph(nodes=[SubNode("Carrier:C1", "Carrier", "C1", "Fast Lines")],
    ...                hubs={"Carrier:C1": {"Declaration": 3400, "Country": 1}})
    >>> hubs_note(sub)
    'Hubs not expanded (above the hub limit): Fast Lines (Carrier C1): 3,400 declarations, 1 country.'
    """
    if not sub.hubs:
        return ""
    names = {n.id: (n.caption, n.label, n.key) for n in sub.nodes}
    parts = []
    for nid, counts in list(sub.hubs.items())[:limit]:
        caption, label, key = names.get(nid, (nid, "", ""))
        who = f"{caption} ({label} {key})" if label and str(caption) != str(key) else str(nid).replace(":", " ", 1)
        parts.append(f"{who}: {hub_counts(counts)}")
    more = len(sub.hubs) - limit
    return ("Hubs not expanded (above the hub limit): " + "; ".join(parts)
            + (f"; and {more} more" if more > 0 else "") + ".")


def text_value(value: Any) -> Any:
    """A list of plain values as one text, ``"; "``-joined; anything else unchanged.

    >>> text_value(["Declaration:D1/1", "Declaration:D2/1"]), text_value(3)
    ('Declaration:D1/1; Declaration:D2/1', 3)
    """
    if isinstance(value, (list, tuple)) and all(not isinstance(v, (list, tuple, dict)) for v in value):
        return "; ".join(str(p) for v in value if (p := plain_value(v)) is not None)
    return value


def text_props(props: dict[str, Any] | None) -> dict[str, str | int | float | bool]:
    """``clean_props`` with list values written as ``"; "``-joined text (:func:`text_value`)."""
    return clean_props({k: text_value(v) for k, v in (props or {}).items()})


def label_counts(nodes: Iterable[SubNode]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in nodes:
        counts[n.label] = counts.get(n.label, 0) + 1
    return counts


def valid_edges(sub: Subgraph):
    """The edges of ``sub`` whose two ends are nodes of ``sub`` (others cannot be drawn)."""
    ids = {n.id for n in sub.nodes}
    return [e for e in sub.edges if e.source in ids and e.target in ids]
