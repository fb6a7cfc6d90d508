"""i2 Analyst's Notebook exchange XML (``.anx``).

Structure (the dialect with ``IdReferenceLinking="false"``: entities are named by ``EntityId``
and links refer to them by ``End1Id``/``End2Id``)::

    Chart
      StrengthCollection > Strength
      AttributeClassCollection > AttributeClass (Name = property, Type AttText|AttNumber|AttFlag|AttTime)
      EntityTypeCollection > EntityType (Name = entity label, IconFile, Colour)
      LinkTypeCollection > LinkType (Name = relationship type, Colour)
      Summary > FieldCollection > Field (title; comments = what the node cap left out)
      ChartItemCollection
        ChartItem Label Description XPosition [DateTime DateSet] SourceReference SourceType
          End X Y > Entity EntityId Identity > Icon > IconStyle Type Enlargement [FrameStyle]
          AttributeCollection > Attribute AttributeClass Value     (key, label, every property)
        ChartItem Label Description [DateTime DateSet] ...
          Link End1Id End2Id > LinkStyle Type ArrowStyle Strength LineWidth
          AttributeCollection ...

Element order and attribute names follow published ANX writers that i2 opens (no XSD is
shipped here, so this is a best effort, checked only by parsing).

Dates and types, so that i2's timeline and filters work: an item with a date carries
``DateTime="YYYY-MM-DDT00:00:00.000" DateSet="true" TimeSet="false"`` -- a record its own date
(a declaration's ``date``), an entity its registration or opening date, a relationship its
``date`` or the start of its period, an aggregated link (``TRADED_WITH``, ``PAID``) its
``first_date`` (when the trade or the payments began; ``last_date`` is among its attributes).
Only dates are known, never times, so no ``TimeZone`` is written (i2 reads one only together
with a time). Attribute classes are typed: numbers ``AttNumber`` (an aggregated link's ``count``
and ``value_usd``), true/false ``AttFlag``, properties named ``...date`` whose every value is an
ISO date ``AttTime`` (value ``YYYY-MM-DDT00:00:00``; such classes stay not ``Visible``, as i2
wants), the rest ``AttText``; a list (``hs6``, ``record_ids``) is one ``"; "``-joined text. An
aggregated link is labelled with what it stands for ("3 × USD 1.2M, 2024-01-10 – 2024-03-01")
and drawn thicker. A hub (a node above the hub limit, shown but not walked through) says so in
its description, and the chart summary names the hubs beside what the node cap left out.
Alerts get a double-size icon; entities flagged by an alert get a red frame. ``SAME_AS`` (entity
resolution, in the records as loaded) is a link type of its own, labelled "same as" (or "same
as?", "not the same" by status), without arrow head, drawn dashed or dotted through i2's link
strengths (``Unconfirmed``, ``Tentative``); a resolved entity carries ``aliases`` and
``alias_names`` among its attributes. Provenance goes
into ``SourceReference`` (file:line) and the ``_source``/``_line``/``_load_id``/``_loaded_at``
attributes. Every value is escaped by the XML serialiser (``xml.etree``).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from graphiff.charts.base import (
    EDGE_DATE_FIELDS,
    NODE_DATE_FIELDS,
    flagged_by,
    hub_counts,
    hubs_note,
    item_date,
    omitted_note,
    text_props,
    truncate,
    valid_edges,
)
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import (
    AGGREGATE_STYLES,
    ALERT_COLOUR,
    edge_caption,
    edge_style,
    edge_style_name,
    hex_to_colorref,
    ordered_labels,
    style_for,
)
from graphiff.graph.subgraph import Subgraph
from graphiff.model.cells import clean_text, plain_value

LINK_COLOURS = {"FLAGS": ALERT_COLOUR}
DEFAULT_LINK_COLOUR = "#404040"
STRENGTH = "Confirmed"
#: i2 draws a link's line by its strength: the strength of each line style of ``style.py``
STRENGTHS = {"solid": (STRENGTH, "DotStyleSolid"), "dashed": ("Unconfirmed", "DotStyleDashed"),
             "dotted": ("Tentative", "DotStyleDotted")}
SOURCE_TYPE = "graphiff"
#: what dates an aggregated link on i2's timeline (then the other date fields of a link)
AGGREGATE_DATE_FIELDS = ("first_date", "last_date")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_day(value: Any) -> bool:
    return isinstance(value, str) and bool(_ISO_DAY.match(value)) and item_date({"d": value}, ("d",)) == value


def _att_type(name: str, values: list[Any]) -> str:
    """The i2 attribute type of a property from all its values on the chart.

    >>> _att_type("first_date", ["2024-01-10"]), _att_type("count", [3, 1]), _att_type("hs6", ["851712"])
    ('AttTime', 'AttNumber', 'AttText')
    >>> _att_type("date", ["2024-01-10", "soon"]), _att_type("flag", [True])
    ('AttText', 'AttFlag')
    """
    if values and all(isinstance(v, bool) for v in values):
        return "AttFlag"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "AttNumber"
    if values and str(name).lower().endswith("date") and all(_is_day(v) for v in values):
        return "AttTime"
    return "AttText"


def _att_value(value: Any, att_type: str) -> str:
    if att_type == "AttFlag":
        return "true" if value else "false"
    if att_type == "AttNumber":
        return repr(value) if isinstance(value, float) else str(value)
    if att_type == "AttTime":
        return f"{value}T00:00:00"
    return clean_text(value)


def _date_attrs(date: str | None) -> dict[str, str]:
    if not date:
        return {"DateSet": "false", "TimeSet": "false"}
    return {"DateTime": f"{date}T00:00:00.000", "DateSet": "true", "TimeSet": "false"}


def _source_ref(props: dict[str, Any]) -> str:
    src = props.get("_source")
    if src is None:
        return ""
    line = props.get("_line")
    return clean_text(f"{src}:{line}" if line is not None else src)


def build_anx(sub: Subgraph) -> ET.ElementTree:
    """The ANX document for ``sub``."""
    positions = layout_positions(sub, spacing=90.0)
    flags = flagged_by(sub)
    edges = valid_edges(sub)

    node_props = [text_props(n.props) for n in sub.nodes]
    edge_props = [text_props(e.props) for e in edges]
    # entity attributes: the node key and label first, then every property
    node_attrs = [{"key": plain_value(n.key), "entity_label": n.label, **p} for n, p in zip(sub.nodes, node_props)]
    edge_attrs = [{"relationship_type": e.type, **p} for e, p in zip(edges, edge_props)]

    values: dict[str, list[Any]] = {}
    for attrs in node_attrs + edge_attrs:
        for k, v in attrs.items():
            if v is not None:
                values.setdefault(k, []).append(v)
    att_types = {k: _att_type(k, vs) for k, vs in values.items()}
    edge_dates = [item_date(p, (AGGREGATE_DATE_FIELDS + EDGE_DATE_FIELDS) if e.type in AGGREGATE_STYLES
                            else EDGE_DATE_FIELDS) for e, p in zip(edges, edge_props)]

    all_dates = [d for d in (item_date(p, NODE_DATE_FIELDS) for p in node_props) if d]
    all_dates += [d for d in edge_dates if d]
    default_date = min(all_dates) if all_dates else "2000-01-01"

    chart = ET.Element("Chart", {
        "Rigorous": "true", "IdReferenceLinking": "false", "BackColour": "16777215",
        "BlankLinkLabels": "false", "DefaultDate": f"{default_date}T00:00:00.000", "DefaultTickRate": "1",
        "HideMatchingTimeZoneFormat": "false", "LabelRule": "LabelRuleMerge", "LabelSumNumericLinks": "false",
        "ShowAllFlag": "false", "ShowPages": "false", "SnapToGrid": "false", "TimeBarVisible": "false",
        "UseLocalTimeZone": "true",
    })
    strengths = ET.SubElement(chart, "StrengthCollection")
    lines = {"solid"} | {edge_style(e.type, e.props).line for e in edges}
    for line in ("solid", "dashed", "dotted"):
        if line in lines:
            name, dots = STRENGTHS[line]
            ET.SubElement(strengths, "Strength", {"Name": name, "DotStyle": dots})

    if att_types:
        classes = ET.SubElement(chart, "AttributeClassCollection")
        for name, att_type in att_types.items():
            ET.SubElement(classes, "AttributeClass", {
                "Name": clean_text(name), "Type": att_type, "ShowValue": "true", "ShowClassName": "true",
                "Visible": "false",
            })

    ent_types = ET.SubElement(chart, "EntityTypeCollection")
    for label in ordered_labels({n.label for n in sub.nodes}):
        st = style_for(label)
        ET.SubElement(ent_types, "EntityType", {
            "Name": clean_text(label), "IconFile": st.i2_icon, "Colour": str(hex_to_colorref(st.colour)),
            "PreferredRepresentation": "RepresentAsIcon",
        })

    link_types = ET.SubElement(chart, "LinkTypeCollection")
    for t in sorted({e.type for e in edges}):
        styled = t == "SAME_AS" or edge_style_name(t) in ("traded-with", "paid")
        colour = LINK_COLOURS.get(t, edge_style(t).colour if styled else DEFAULT_LINK_COLOUR)
        ET.SubElement(link_types, "LinkType", {"Name": clean_text(t), "Colour": str(hex_to_colorref(colour))})

    summary = ET.SubElement(chart, "Summary")
    fields = ET.SubElement(summary, "FieldCollection")
    ET.SubElement(fields, "Field", {"Type": "SummaryFieldTitle", "Field": clean_text(sub.title)})
    seeds = ", ".join(str(s) for s in sub.seeds)
    comments = omitted_note(sub) + (f" {hubs_note(sub)}" if sub.hubs else "") + (f" Seeds: {seeds}." if seeds else "")
    ET.SubElement(fields, "Field", {"Type": "SummaryFieldComments", "Field": clean_text(comments)})

    items = ET.SubElement(chart, "ChartItemCollection")
    entity_ids: dict[str, str] = {}
    for i, (n, props, attrs) in enumerate(zip(sub.nodes, node_props, node_attrs), start=1):
        eid = str(i)
        entity_ids[n.id] = eid
        x, y = positions.get(n.id, (0.0, 0.0))
        caption = clean_text(plain_value(n.caption) or n.key)
        description = f"{n.label} {plain_value(n.key)}"
        if n.label == "Alert" and props.get("explanation"):
            description += f": {props['explanation']}"
        if n.id in flags:
            description += f" (flagged by {len(flags[n.id])} alert(s))"
        if n.id in sub.hubs:
            description += f" (hub, not expanded: {hub_counts(sub.hubs[n.id])})"
        item = ET.SubElement(items, "ChartItem", {
            "Label": caption, "Description": clean_text(description), "XPosition": str(int(round(x))),
            "SourceType": SOURCE_TYPE, "SourceReference": _source_ref(props),
            **_date_attrs(item_date(props, NODE_DATE_FIELDS)),
        })
        end = ET.SubElement(item, "End", {"X": str(int(round(x))), "Y": str(int(round(y))), "Z": "0"})
        entity = ET.SubElement(end, "Entity", {
            "EntityId": eid, "Identity": clean_text(truncate(f"{n.label}:{plain_value(n.key)}", 255)),
            "LabelIsIdentity": "false",
        })
        icon = ET.SubElement(entity, "Icon", {"TextX": "0", "TextY": "20"})
        icon_style = ET.SubElement(icon, "IconStyle", {
            "Type": clean_text(n.label),
            "Enlargement": "ICEnlargeDouble" if n.label == "Alert" else "ICEnlargeSingle",
        })
        if n.id in flags or n.label == "Alert":
            ET.SubElement(icon_style, "FrameStyle", {"Colour": str(hex_to_colorref(ALERT_COLOUR)), "Visible": "true"})
        _attributes(item, attrs, att_types)

    for e, props, attrs, date in zip(edges, edge_props, edge_attrs, edge_dates):
        look = edge_style(e.type, e.props)
        aggregated = e.type in AGGREGATE_STYLES
        description = f"{e.type} {e.id}"
        if aggregated and props.get("count") is not None:
            description = f"{e.type}: {edge_caption(e.type, e.props)} ({props['count']} record(s) folded)"
        item = ET.SubElement(items, "ChartItem", {
            "Label": clean_text(edge_caption(e.type, e.props)), "Description": clean_text(description),
            "XPosition": "0",
            "SourceType": SOURCE_TYPE, "SourceReference": _source_ref(props),
            **_date_attrs(date),
        })
        link = ET.SubElement(item, "Link", {
            "End1Id": entity_ids[e.source], "End2Id": entity_ids[e.target],
            "LabelPos": "50", "LabelSegment": "0", "Offset": "0",
        })
        ET.SubElement(link, "LinkStyle", {
            "Type": clean_text(e.type), "ArrowStyle": "ArrowOnHead" if look.arrow else "ArrowNone",
            "Strength": STRENGTHS.get(look.line, STRENGTHS["solid"])[0],
            "LineWidth": "3" if aggregated else "2" if e.type in ("FLAGS", "SAME_AS") else "1",
        })
        _attributes(item, attrs, att_types)
    ET.indent(chart, space=" ")
    return ET.ElementTree(chart)


def _attributes(item: ET.Element, attrs: dict[str, Any], att_types: dict[str, str]) -> None:
    present = [(k, v) for k, v in attrs.items() if v is not None]
    if not present:
        return
    coll = ET.SubElement(item, "AttributeCollection")
    for k, v in present:
        ET.SubElement(coll, "Attribute", {"AttributeClass": clean_text(k), "Value": _att_value(v, att_types[k])})


def write_anx(sub: Subgraph, out: Path) -> None:
    """Write ``sub`` as i2 ANX to ``out``."""
    build_anx(sub).write(out, encoding="utf-8", xml_declaration=True)
