"""What every link-chart format shares: the format registry, ``write_chart``, and small helpers.

Each format lives in its own module (``html_chart``, ``anx``, ``graphml``, ``gexf``, ``cyjs``,
``static``) exposing ``write_<fmt>(sub: Subgraph, out: Path) -> None``; they are imported
lazily, so writing GraphML never imports matplotlib.

Escaping rules shared by all formats:

- XML writers (ANX, GraphML, GEXF, SVG) escape through their serialiser; :func:`clean_text`
  also removes the characters XML 1.0 cannot carry at all (C0 controls, lone surrogates), which
  would otherwise make the whole file unreadable.
- the HTML page embeds data as escaped JSON and only ever sets ``textContent``.
- anything that ends up in a spreadsheet cell goes through :func:`safe_cell`.
"""
from __future__ import annotations

import datetime as _dt
import importlib
import json
import math
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from graphiff.errors import GraphiffError
from graphiff.export.subgraph_types import Subgraph, SubNode

#: Provenance properties carried by every node and relationship.
PROVENANCE = ("_source", "_line", "_load_id", "_loaded_at")

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
        ChartFormat("html", ".html", "graphiff.export.html_chart", "write_html",
                    "self-contained interactive page (offline, Cytoscape.js inlined)"),
        ChartFormat("anx", ".anx", "graphiff.export.anx", "write_anx",
                    "i2 Analyst's Notebook exchange XML"),
        ChartFormat("graphml", ".graphml", "graphiff.export.graphml", "write_graphml", "GraphML"),
        ChartFormat("gexf", ".gexf", "graphiff.export.gexf", "write_gexf", "GEXF 1.2 (Gephi)"),
        ChartFormat("cyjs", ".cyjs", "graphiff.export.cyjs", "write_cyjs", "Cytoscape JSON"),
        ChartFormat("png", ".png", "graphiff.export.static", "write_png", "static picture (PNG)"),
        ChartFormat("svg", ".svg", "graphiff.export.static", "write_svg", "static picture (SVG)"),
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


# --------------------------------------------------------------------------- text and values

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# characters XML 1.0 forbids (C0 controls except tab/newline/CR, U+FFFE/U+FFFF) and surrogates
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def safe_cell(value: Any) -> str:
    """A value as a spreadsheet-safe text cell (for CSV and similar exports).

    ``None`` -> ``""``; numbers as they are; a string that a spreadsheet would read as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, a tab or a line break) gets a leading single quote,
    so ``=HYPERLINK("http://x")`` stays text. Plain numbers such as ``-12.5`` are left alone.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return "" if isinstance(value, float) and math.isnan(value) else str(value)
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def clean_text(value: Any) -> str:
    """``value`` as text that any XML file can carry (illegal control characters removed)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():          # fast path: no control character, no surrogate
        return text
    return _XML_ILLEGAL.sub("", text)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "\u2026"


def plain_value(value: Any) -> str | int | float | bool | None:
    """A property value as a JSON/XML-friendly scalar; ``None`` for missing values.

    NaN/NaT/None -> ``None``; numpy scalars -> Python numbers; dates -> ISO strings; lists and
    dicts -> JSON text; anything else -> ``str``.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return plain_value(float(value))
    if isinstance(value, (_dt.datetime, _dt.date)):
        try:
            return value.isoformat()
        except ValueError:   # NaT
            return None
    if isinstance(value, (list, tuple, set, dict)):
        return json.dumps(sorted(value, key=str) if isinstance(value, set) else value,
                          ensure_ascii=False, default=str)
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    item = getattr(value, "item", None)          # numpy scalar
    if callable(item):
        try:
            return plain_value(item())
        except (TypeError, ValueError):
            pass
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def clean_props(props: dict[str, Any] | None) -> dict[str, str | int | float | bool]:
    """``props`` with every value made plain and missing values (None, NaN) dropped."""
    out: dict[str, str | int | float | bool] = {}
    for k, v in (props or {}).items():
        pv = plain_value(v)
        if pv is not None:
            out[str(k)] = pv
    return out


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


def label_counts(nodes: Iterable[SubNode]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in nodes:
        counts[n.label] = counts.get(n.label, 0) + 1
    return counts


def valid_edges(sub: Subgraph):
    """The edges of ``sub`` whose two ends are nodes of ``sub`` (others cannot be drawn)."""
    ids = {n.id for n in sub.nodes}
    return [e for e in sub.edges if e.source in ids and e.target in ids]
