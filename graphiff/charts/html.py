"""The interactive link chart: one self-contained HTML page that works offline.

Cytoscape.js (vendored in ``vendor/``, MIT licence alongside) and the viewer script are inlined;
positions are precomputed in Python (``layout.py``) and shown with the ``preset`` layout.

Safety: the data is embedded once, as JSON inside ``<script type="application/json">`` with
``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX`` escapes, so no value can close the
script element or open markup; the viewer only ever sets ``textContent``. A Content-Security-
Policy forbids every network request and any non-inline script.

Aggregated links (``TRADED_WITH``, ``PAID``) are drawn as thick captioned arrows ("3 × USD 1.2M,
2024-01-10 – 2024-03-01"); the panel of one says how many records it folds and lists its
properties (``record_ids`` and ``hs6`` as ``"; "``-joined text). A hub (shown, not walked
through) has a dashed border and its panel says what it holds; the side bar notes the hubs
beside what the node cap left out.
"""
from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphiff.charts.base import (
    flagged_by,
    hub_counts,
    hubs_note,
    label_counts,
    omitted_note,
    plural,
    text_props,
    valid_edges,
)
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import (
    DEFAULT_EDGE_STYLE,
    DEFAULT_STYLE,
    EDGE_STYLES,
    STYLES,
    EdgeStyle,
    edge_caption,
    edge_style_name,
    ordered_labels,
    swatch_path,
)
from graphiff.graph.subgraph import Subgraph
from graphiff.model import model
from graphiff.model.cells import clean_text, plain_value
from graphiff.model.identity import PROVENANCE

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")
_PLACEHOLDER = re.compile(r"%%([A-Z]+)%%")


def json_for_script(data: Any) -> str:
    """``data`` as JSON that is safe inside an HTML ``<script>`` element."""
    # ensure_ascii: any text, even a lone surrogate, survives as a \uXXXX escape
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


_HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def _asset(folder: str, name: str) -> str:
    return (_HERE / folder / name).read_text(encoding="utf-8")


def _library() -> str:
    lib = _asset("vendor", "cytoscape.min.js")
    if re.search(r"</script|<!--", lib, re.IGNORECASE):   # would end the inline script early
        raise RuntimeError("vendored cytoscape.min.js cannot be inlined safely")
    return lib


def _style_json(st) -> dict[str, Any]:
    # swatch: the legend's SVG path of the same shape cytoscape draws for the node
    return {"colour": st.colour, "shape": st.shape, "size": st.size, "swatch": swatch_path(st.shape, st.size)}


def _edge_style_json(st: EdgeStyle) -> dict[str, Any]:
    return {"colour": st.colour, "line": st.line, "width": st.width, "caption": st.caption, "arrow": st.arrow}


def _aliases(props: dict[str, Any]) -> list[str]:
    """The other records' keys of a resolved entity (its ``aliases`` property), else none."""
    text = plain_value(props.get("aliases"))
    return [clean_text(a) for a in str(text).split("; ") if a] if text is not None else []


def chart_data(sub: Subgraph, positions: dict[str, tuple[float, float]] | None = None) -> dict[str, Any]:
    """The JSON document the page embeds (also handy for tests)."""
    if positions is None:
        positions = layout_positions(sub)
    flags = flagged_by(sub)
    seeds = set(sub.seeds)
    nodes = []
    for n in sub.nodes:
        x, y = positions.get(n.id, (0.0, 0.0))
        rec = {
            "id": n.id, "label": n.label, "key": str(plain_value(n.key) or ""),
            "caption": clean_text(plain_value(n.caption) or n.key),
            "x": x, "y": y, "props": text_props(n.props),
        }
        if n.props.get("id_check"):  # a mark set at load (iban_invalid): shown beside the caption
            rec["caption"] = f"{rec['caption']} [{clean_text(plain_value(n.props['id_check']))}]"
        if n.id in flags:
            rec["flagged_by"] = flags[n.id]
        if n.id in seeds or n.key in seeds:
            rec["seed"] = True
        aliases = _aliases(n.props)
        if aliases:                  # a resolved entity: the panel names its records, search finds them
            rec["aliases"] = aliases
        if n.id in sub.hubs:         # shown, not walked through: the panel says what it holds
            rec["hub"] = hub_counts(sub.hubs[n.id])
        nodes.append(rec)
    edges: list[dict[str, Any]] = []
    for e in valid_edges(sub):
        item: dict[str, Any] = {"id": str(e.id), "source": e.source, "target": e.target, "type": e.type,
                                "props": text_props(e.props)}
        style = edge_style_name(e.type, e.props)
        if style:
            item["style"] = style
            item["caption"] = edge_caption(e.type, e.props)
        spec = model().aggregates.get(e.type)
        if spec is not None and isinstance(e.props.get("count"), int):
            item["folded"] = plural(spec.record, e.props["count"])    # "3 declarations"
        edges.append(item)
    counts = label_counts(sub.nodes)
    edge_counts: dict[str, int] = {}
    for e in edges:
        edge_counts[e["type"]] = edge_counts.get(e["type"], 0) + 1
    return {
        "title": str(sub.title),
        "nodes": nodes,
        "edges": edges,
        "omitted": {str(k): int(v) for k, v in sub.omitted.items()},
        "omitted_note": omitted_note(sub),
        "hubs_note": hubs_note(sub),
        "seeds": [str(s) for s in sub.seeds],
        "provenance": list(PROVENANCE),
        "labels": [{"label": lab, "count": counts[lab]} for lab in ordered_labels(counts)],
        "edge_types": [{"type": t, "count": c} for t, c in sorted(edge_counts.items())],
        "styles": {lab: _style_json(st) for lab, st in STYLES.items()},
        "default_style": _style_json(DEFAULT_STYLE),
        "edge_styles": {name: _edge_style_json(st) for name, st in EDGE_STYLES.items()},
        "default_edge_style": _edge_style_json(DEFAULT_EDGE_STYLE),
    }


def render_html(sub: Subgraph) -> str:
    """The whole page as a string."""
    parts = {
        "TITLE": html.escape(str(sub.title), quote=True),
        "DATA": json_for_script(chart_data(sub)),
        "CYTOSCAPE": _library(),
        "APP": _asset("templates", "chart.js"),
    }
    template = _asset("templates", "chart.html")
    # one pass: inserted text is never scanned for placeholders again
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], template)


def write_html(sub: Subgraph, out: Path) -> None:
    """Write the interactive page for ``sub`` to ``out``."""
    Path(out).write_text(render_html(sub), encoding="utf-8")
