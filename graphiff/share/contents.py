"""What a verified package holds, parsed and type-checked against the model before anything is
written: the nodes and relationships (from nodes.csv/edges.csv, else from entities.ftm.json) and
the partner's alerts (alerts.json).

Every problem raises :class:`~graphiff.errors.PackageError` naming the file, the line and the
column: an unknown label or relationship type, an end label the type does not allow, an
``Alert`` row or a ``FLAGS`` relationship (a partner's alerts travel in alerts.json and are never
written to the store), a reserved, duplicate, empty or case-colliding column name, a row shorter or
longer than its header, a value that does not convert to its model type (``value_usd`` must be a
number, ``item_no`` a whole number). Property types come from the model (``files.yaml``), never
from the manifest: the package cannot change how the store types a column.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from graphiff.errors import PackageError
from graphiff.graph.resolution import RESOLVABLE, STATUSES
from graphiff.graph.subgraph import SubEdge
from graphiff.ingest.validate import check_names
from graphiff.model import model
from graphiff.model.identity import PROVENANCE, REL_ENDS, split_node_id
from graphiff.share.ftm_read import from_ftm, read_ftm_json_lines
from graphiff.share.judgements import JUDGEMENTS_FILE, RESOLVED_COLUMNS, SAME_AS_KINDS, STATUS_OF_JUDGEMENT
from graphiff.share.package import EDGE_FIXED, NODE_FIXED
from graphiff.share.verify import check_text, parse_json

#: Labels and relationship types a package may not write (with the reason given).
REFUSED_LABELS = {"Alert": "a partner's alerts travel in alerts.json and are never written to the store"}
REFUSED_TYPES = {"FLAGS": REFUSED_LABELS["Alert"]}
#: Property names a package may not use (besides names starting with ``_``): the store's own
#: columns, the import's source columns, and the columns the resolved view computes (a partner's
#: ``aliases`` would read as entity resolution's).
RESERVED_NODE_PROPS = ("rid", "source", "source_key", *RESOLVED_COLUMNS)
RESERVED_EDGE_PROPS = ("rid", "key", "source", "source_key")
#: The longest key and the longest column name a package may use, in characters.
MAX_KEY = 1000
MAX_COLUMN_NAME = 128

_INT = re.compile(r"^[+-]?\d{1,19}$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Contents:
    """The parsed package: node frames by label (``key``, properties, ``_line``), relationship
    frames by type (``src_label, src, dst_label, dst``, properties, ``_line``), the partner's
    alerts (validated dicts) and where the graph was read from (``csv`` or ``ftm``)."""

    nodes: dict[str, pd.DataFrame]
    rels: dict[str, pd.DataFrame]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    read_from: str = "csv"
    #: judgements.json, checked (empty when the package has none)
    judgements: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=1)
def property_kinds() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The numeric properties of the model, ``({label: {prop: "int"|"float"}}, {type: {prop:
    kind}})``, from the input contract's types (``int``; ``number`` and ``amount`` are floats) and
    its USD conversions. Every other property is text.

    >>> property_kinds()[0]["Declaration"]["value_usd"], property_kinds()[1]["OFFICER_OF"]["share_pct"]
    ('float', 'float')
    """
    kind_of = {"int": "int", "number": "float", "amount": "float"}
    nodes: dict[str, dict[str, str]] = {}
    rels: dict[str, dict[str, str]] = {}
    for fk in model().files.values():
        kinds = {c: kind_of[k] for c, k in fk.types.items() if k in kind_of}
        if fk.label:
            own = nodes.setdefault(fk.label, {})
            own.update(kinds)
            if fk.node.usd:
                own[fk.node.usd["out"]] = "float"
        for e in fk.emits:
            props = kinds if "*" in e.props else {c: k for c, k in kinds.items() if c in e.props}
            rels.setdefault(e.type, {}).update(props)
    rels.setdefault("SAME_AS", {}).update(SAME_AS_KINDS)     # written by graphiff resolve, not from a file
    return nodes, rels


def convert(value: Any, kind: str) -> Any:
    """``value`` (a CSV cell or an FtM value) as the model type ``kind`` (``int``, ``float``,
    else text); ``None`` for an empty value. Raises ``ValueError`` naming what is wrong.

    >>> convert("12", "int"), convert("1.5", "float"), convert(7, "str")
    (12, 1.5, '7')
    >>> convert("not-a-number", "float")
    Traceback (most recent call last):
    ValueError: not a number: 'not-a-number'
    """
    if value is None or value == "":
        return None
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"not a whole number: {value!r}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and _INT.match(value.strip()):
            value = int(value.strip())
        if not isinstance(value, int) or not -(1 << 63) <= value < (1 << 63):
            raise ValueError(f"not a whole number: {value!r:.80}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"not a number: {value!r:.80}")
        if isinstance(value, str):
            if not _FLOAT.match(value.strip()):
                raise ValueError(f"not a number: {value!r:.80}")
            value = float(value)
        if not math.isfinite(float(value)):
            raise ValueError(f"not a finite number: {value!r:.80}")
        return float(value)
    if isinstance(value, (dict, list)):
        raise ValueError("a nested value, not text")
    return str(value)


def _check_header(header: list[str], fixed: tuple[str, ...], reserved: tuple[str, ...], where: str,
                  *, empty: bool = False) -> None:
    """Refuse empty, unusable, repeated (in any letter case) and reserved column names; no
    columns at all only when ``empty`` is false."""
    if not header and not empty:
        raise PackageError(f"{where} has no header")
    for i, name in enumerate(header, start=1):
        if name.strip() and (len(name) > MAX_COLUMN_NAME or _CONTROL.search(name)):
            raise PackageError(f"{where}: column {i} has an unusable name {name[:80]!r}")
    own = {c.lower() for c in (*fixed, *PROVENANCE)}

    def refused(name: str) -> str | None:
        if name in fixed or name in PROVENANCE:
            return None
        low = name.lower()
        return "a reserved name" if low in reserved or name.startswith("_") or low in own else None

    problem = check_names(header, refused)
    if problem is not None:
        raise PackageError(f"{where}: {problem[1]}")


def _read_csv(data: bytes, where: str, fixed: tuple[str, ...], reserved: tuple[str, ...],
              required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(line, cells)`` rows of a package CSV, every row as long as the header."""
    def uncell(text: str) -> str:      # the quote package.py puts before formula-like cells
        return text[1:] if text.startswith("'") else text

    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise PackageError(f"{where} line {line}: a NUL byte")
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
        header = [uncell(h) for h in next(reader, [])]
        _check_header(header, fixed, reserved, where)
        for c in required:
            if c not in header:
                raise PackageError(f"{where} has no {c!r} column")
        rows = []
        line = reader.line_num
        for row in reader:
            start, line = line + 1, reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise PackageError(f"{where} line {start} has {len(row)} fields, the header has {len(header)}")
            rows.append((start, [uncell(c) for c in row]))
    except UnicodeDecodeError as exc:
        raise PackageError(f"{where} is not UTF-8 text: {exc}") from None
    except csv.Error as exc:
        raise PackageError(f"{where} line {reader.line_num} cannot be read as CSV: {exc}") from None
    return header, rows


def _typed(record: dict[str, Any], kinds: dict[str, str], where: str) -> dict[str, Any]:
    out = {}
    for c, v in record.items():
        try:
            out[c] = convert(v, kinds.get(c, "str"))
        except ValueError as exc:
            raise PackageError(f"{where}, column {c!r}: {exc}") from None
    return out


def _check_label(label: str, where: str) -> None:
    if label in REFUSED_LABELS:
        raise PackageError(f"{where}: {label} rows are refused ({REFUSED_LABELS[label]})")
    if label not in model().nodes:
        raise PackageError(f"{where}: unknown label {label[:80]!r}")


def _check_key(key: Any, where: str, what: str = "key") -> str:
    if not isinstance(key, str) or not key:
        raise PackageError(f"{where}: empty {what}")
    if len(key) > MAX_KEY or _CONTROL.search(key):
        raise PackageError(f"{where}: unusable {what} {key[:80]!r}")
    return key


def _check_rel(t: str, src_label: str, dst_label: str, where: str) -> None:
    if t in REFUSED_TYPES:
        raise PackageError(f"{where}: {t} relationships are refused ({REFUSED_TYPES[t]})")
    if t not in model().relationships:
        raise PackageError(f"{where}: unknown relationship type {t[:80]!r}")
    rt = model().rel(t)
    if src_label not in rt.sources or dst_label not in rt.targets:
        raise PackageError(f"{where}: {t} cannot join {src_label[:80]!r} to {dst_label[:80]!r}")
    if t == "SAME_AS" and src_label != dst_label:
        raise PackageError(f"{where}: SAME_AS joins two records of one label, not {src_label!r} and {dst_label!r}")


def _check_score(score: Any, at: str, *, required: bool) -> None:
    """A score is a finite number from 0 to 1 (or absent when not ``required``)."""
    if score is None and not required:
        return
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) \
            or not 0 <= score <= 1:
        raise PackageError(f"{at}: score must be a number from 0 to 1, not {score!r:.80}")


def _check_same_as(rec: dict[str, Any], where: str) -> None:
    """A SAME_AS row: two different records, a known ``status``, a ``score`` (when given) from 0 to 1, and
    ``evidence`` (when given) a JSON object of fields, each ``{"a", "b", "match", "weight"}``
    with a numeric weight, or a plain value (within the JSON depth limit)."""
    if rec["src"] == rec["dst"]:
        raise PackageError(f"{where}: SAME_AS joins a record to itself")
    status = rec.get("status")
    if status not in STATUSES:
        raise PackageError(f"{where}: SAME_AS status must be one of {', '.join(STATUSES)}, not {status!r:.80}")
    _check_score(rec.get("score"), f"{where}: SAME_AS", required=False)
    evidence = rec.get("evidence")
    if evidence is None or evidence == "":
        return
    ev = parse_json(evidence, f"{where}: SAME_AS evidence") if isinstance(evidence, str) else evidence
    if not isinstance(ev, dict):
        raise PackageError(f"{where}: SAME_AS evidence must be a JSON object of fields, not {type(ev).__name__}")
    for name, v in ev.items():
        if isinstance(v, dict) and "weight" in v and (isinstance(v["weight"], bool)
                                                      or not isinstance(v["weight"], (int, float, type(None)))):
            raise PackageError(f"{where}: SAME_AS evidence {str(name)[:40]!r}: weight must be a number")


def _frame(records: list[dict[str, Any]], kinds: dict[str, str]) -> pd.DataFrame:
    df = pd.DataFrame(records)
    for c, kind in kinds.items():
        if c in df.columns:
            df[c] = df[c].astype("Int64" if kind == "int" else "float64")
    return df


def _from_csv(files: dict[str, bytes], pkg: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    node_kinds, rel_kinds = property_kinds()
    where = f"package {pkg}: nodes.csv"
    header, rows = _read_csv(files["nodes.csv"], where, NODE_FIXED, RESERVED_NODE_PROPS, ("label", "key"))
    skip = set(NODE_FIXED) | set(PROVENANCE)
    nodes: dict[str, list[dict[str, Any]]] = {}
    for line, cells in rows:
        row = dict(zip(header, cells))
        at = f"{where} line {line}"
        label = row["label"]
        _check_label(label, at)
        rec: dict[str, Any] = {"key": _check_key(row["key"], at)}
        rec.update(_typed({c: v for c, v in row.items() if c not in skip and v != ""},
                          node_kinds.get(label, {}), at))
        rec["_line"] = line
        nodes.setdefault(label, []).append(rec)
    where = f"package {pkg}: edges.csv"
    header, rows = _read_csv(files["edges.csv"], where, EDGE_FIXED, RESERVED_EDGE_PROPS, ("type", *REL_ENDS))
    skip = set(EDGE_FIXED) | set(PROVENANCE)
    rels: dict[str, list[dict[str, Any]]] = {}
    in_package = {(label, str(r["key"])) for label, recs in nodes.items() for r in recs}
    judged: dict[tuple[str, str, str], str] = {}
    for line, cells in rows:
        row = dict(zip(header, cells))
        at = f"{where} line {line}"
        t = row["type"]
        _check_rel(t, row["src_label"], row["dst_label"], at)
        rec = {"src_label": row["src_label"], "src": _check_key(row["src"], at, "src"),
               "dst_label": row["dst_label"], "dst": _check_key(row["dst"], at, "dst")}
        rec.update(_typed({c: v for c, v in row.items() if c not in skip and v != ""}, rel_kinds.get(t, {}), at))
        if t == "SAME_AS":
            _check_same_as(rec, at)
            # a judgement is about two records the package carries, stated once
            for end in ("src", "dst"):
                if (rec[f"{end}_label"], str(rec[end])) not in in_package:
                    raise PackageError(f"{at}: SAME_AS names {rec[f'{end}_label']} {str(rec[end])[:80]!r}, which "
                                       "is not a record of the package")
            pair = (rec["src_label"], *sorted((str(rec["src"]), str(rec["dst"]))))
            if pair in judged:
                raise PackageError(f"{at}: a second SAME_AS between {pair[1][:80]!r} and {pair[2][:80]!r} "
                                   f"(the first is on line {judged[pair]})")
            judged[pair] = str(line)
        rec["_line"] = line
        rels.setdefault(t, []).append(rec)
    return ({k: _frame(v, node_kinds.get(k, {})) for k, v in nodes.items()},
            {k: _frame(v, rel_kinds.get(k, {})) for k, v in rels.items()})


def _from_ftm(files: dict[str, bytes], pkg: str, judged: list[dict[str, Any]]
              ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    node_kinds, rel_kinds = property_kinds()
    where = f"package {pkg}: entities.ftm.json"
    try:
        entities = read_ftm_json_lines(files["entities.ftm.json"])
        sub = from_ftm(entities)
    except ValueError as exc:
        raise PackageError(f"{where} {exc}") from None
    sub.edges.extend(same_as_edges(judged, entities, sub.nodes, f"package {pkg}: {JUDGEMENTS_FILE}"))
    nodes: dict[str, list[dict[str, Any]]] = {}
    for i, n in enumerate(sub.nodes, start=1):
        at = f"{where}, {n.label} {n.key[:80]!r}"
        _check_label(n.label, at)
        props = {k: v for k, v in n.props.items() if k not in PROVENANCE and k != "key"}
        _check_header(list(props), (), RESERVED_NODE_PROPS, at, empty=True)
        nodes.setdefault(n.label, []).append({"key": _check_key(n.key, at),
                                              **_typed(props, node_kinds.get(n.label, {}), at), "_line": i})
    rels: dict[str, list[dict[str, Any]]] = {}
    for i, e in enumerate(sub.edges, start=1):
        (sl, sk), (dl, dk) = split_node_id(e.source), split_node_id(e.target)
        at = f"{where}, {e.type} {sk[:80]!r} -> {dk[:80]!r}"
        _check_rel(e.type, sl, dl, at)
        props = {k: v for k, v in e.props.items() if k not in PROVENANCE}
        _check_header(list(props), (), RESERVED_EDGE_PROPS, at, empty=True)
        rec = {"src_label": sl, "src": _check_key(sk, at, "src"), "dst_label": dl, "dst": _check_key(dk, at, "dst"),
               **_typed(props, rel_kinds.get(e.type, {}), at)}
        if e.type == "SAME_AS":
            _check_same_as(rec, at)
        rels.setdefault(e.type, []).append({**rec, "_line": i})
    return ({k: _frame(v, node_kinds.get(k, {})) for k, v in nodes.items()},
            {k: _frame(v, rel_kinds.get(k, {})) for k, v in rels.items()})


def partner_alerts(files: dict[str, bytes], pkg: str) -> list[dict[str, Any]]:
    """The alerts of alerts.json, checked: a list of objects with a ``pattern`` (text), a
    ``score`` (a number from 0 to 1), ``entities`` (``{"label", "id"}`` of model labels), an
    ``explanation`` (text) and any ``evidence``. They are the partner's findings: counted and
    shown, never written to the store. Cost: one parse.
    """
    if "alerts.json" not in files:
        return []
    where = f"package {pkg}: alerts.json"
    data = parse_json(files["alerts.json"], where)
    if not isinstance(data, list):
        raise PackageError(f"{where} must be a list of alerts, not {type(data).__name__}")
    for i, a in enumerate(data, start=1):
        at = f"{where}, alert {i}"
        if not isinstance(a, dict):
            raise PackageError(f"{at} is not an object")
        check_text(a.get("pattern"), f"{at}: pattern", required=True, limit=200)
        check_text(a.get("id"), f"{at}: id", limit=MAX_KEY)
        check_text(a.get("explanation"), f"{at}: explanation", limit=100_000)
        _check_score(a.get("score"), at, required=True)
        entities = a.get("entities", [])
        if not isinstance(entities, list):
            raise PackageError(f"{at}: entities must be a list")
        for e in entities:
            if not isinstance(e, dict) or e.get("label") not in model().nodes or not isinstance(e.get("id"), str):
                raise PackageError(f"{at}: an entity must be {{\"label\": <a label>, \"id\": <text>}}, not {e!r:.80}")
    return data


def read_judgements(files: dict[str, bytes], pkg: str) -> list[dict[str, Any]]:
    """The entries of judgements.json, checked: a list of objects with ``source`` and ``target``
    (FtM entity ids, text), a ``judgement`` (``positive``, ``negative`` or ``unsure``), an
    optional ``score`` (0 to 1), ``user`` and ``timestamp`` (text), any ``evidence``, and an
    optional ``graphiff`` context (``label`` a resolvable label, ``status`` a SAME_AS status,
    the other fields text). Empty when the package has none. Cost: one parse.
    """
    if JUDGEMENTS_FILE not in files:
        return []
    where = f"package {pkg}: {JUDGEMENTS_FILE}"
    data = parse_json(files[JUDGEMENTS_FILE], where)
    if not isinstance(data, list):
        raise PackageError(f"{where} must be a list of judgements, not {type(data).__name__}")
    for i, j in enumerate(data, start=1):
        at = f"{where}, judgement {i}"
        if not isinstance(j, dict):
            raise PackageError(f"{at} is not an object")
        for name in ("source", "target"):
            check_text(j.get(name), f"{at}: {name}", required=True, limit=MAX_KEY)
        if j.get("judgement") not in STATUS_OF_JUDGEMENT:
            raise PackageError(f"{at}: judgement must be one of {', '.join(STATUS_OF_JUDGEMENT)}, "
                               f"not {j.get('judgement')!r:.80}")
        _check_score(j.get("score"), at, required=False)
        for name in ("user", "timestamp"):
            check_text(j.get(name), f"{at}: {name}", limit=MAX_KEY)
        g = j.get("graphiff") or {}
        if not isinstance(g, dict):
            raise PackageError(f"{at}: graphiff must be an object")
        if g.get("label") is not None and g.get("label") not in RESOLVABLE:
            raise PackageError(f"{at}: graphiff label must be one of {', '.join(RESOLVABLE)}, "
                               f"not {g.get('label')!r:.80}")
        if g.get("status") is not None and g.get("status") not in STATUSES:
            raise PackageError(f"{at}: graphiff status must be one of {', '.join(STATUSES)}, "
                               f"not {g.get('status')!r:.80}")
        for name in ("source_key", "target_key", "method", "version"):
            check_text(g.get(name), f"{at}: graphiff {name}", limit=MAX_KEY)
    return data


def same_as_edges(judged: list[dict[str, Any]], entities: list[dict[str, Any]], nodes: list[Any],
                  where: str) -> list[SubEdge]:
    """The SAME_AS relationships that checked judgements (:func:`read_judgements`) state between
    entities of the package (FtM dictionaries; ``nodes`` the nodes :func:`from_ftm` made of
    them), for a package read from its FtM entities. A judgement naming an entity that is not
    a trader, person, carrier or account of the package, or two records of different labels,
    is refused. The status is the judgement's graphiff ``status`` when given, else
    ``confirmed`` (positive), ``rejected`` (negative) or ``unsure``.
    """
    by_key = {n.key: (n.label, n.key) for n in nodes if n.label in RESOLVABLE}
    label_key: dict[str, tuple[str, str]] = {}
    for ent in entities:
        g = ent.get("graphiff") or {}
        key = str(g.get("key") or ent["id"])
        if g.get("label") in RESOLVABLE:
            label_key[str(ent["id"])] = (str(g["label"]), key)
        elif not g.get("label") and key in by_key:
            label_key[str(ent["id"])] = by_key[key]
    out = []
    for i, j in enumerate(judged, start=1):
        at = f"{where}, judgement {i}"
        a, b = label_key.get(str(j["source"])), label_key.get(str(j["target"]))
        if a is None or b is None:
            raise PackageError(f"{at} names an entity that is not a trader, person, carrier or account of the package")
        (sl, sk), (dl, dk) = sorted((a, b), key=lambda x: x[1])
        if sl != dl:
            raise PackageError(f"{at}: SAME_AS joins two records of one label, not {sl!r} and {dl!r}")
        g = j.get("graphiff") or {}
        evidence = j.get("evidence")
        props = {"status": g.get("status") or STATUS_OF_JUDGEMENT[j["judgement"]], "score": j.get("score"),
                 "evidence": evidence if evidence is None or isinstance(evidence, str)
                 else json.dumps(evidence, ensure_ascii=False),
                 "method": g.get("method"), "version": g.get("version"),
                 "decided_by": j.get("user"), "decided_at": j.get("timestamp")}
        out.append(SubEdge(f"{sl}:{sk}|SAME_AS|{dl}:{dk}|", f"{sl}:{sk}", f"{dl}:{dk}", "SAME_AS",
                           {k: v for k, v in props.items() if v is not None}))
    return out


def alert_counts(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"count": n, "patterns": {pattern: n}}`` of validated partner alerts.

    >>> alert_counts([{"pattern": "a"}, {"pattern": "b"}, {"pattern": "a"}])
    {'count': 3, 'patterns': {'a': 2, 'b': 1}}
    """
    return {"count": len(alerts), "patterns": dict(sorted(Counter(str(a["pattern"]) for a in alerts).items()))}


def read_contents(files: dict[str, bytes], pkg: str) -> Contents:
    """Parse and check every table of a verified package (``files`` from
    :func:`graphiff.share.verify.read_package`; ``pkg`` names it in errors): nodes.csv and
    edges.csv when both are there, else entities.ftm.json, and alerts.json. Raises
    :class:`PackageError` at the first problem; nothing is written. Cost: one pass over every
    file, the tables held in memory as frames.
    """
    judged = read_judgements(files, pkg)
    if {"nodes.csv", "edges.csv"} <= set(files):
        nodes, rels = _from_csv(files, pkg)
        origin = "csv"
    else:
        nodes, rels = _from_ftm(files, pkg, judged)
        origin = "ftm"
    return Contents(nodes, rels, partner_alerts(files, pkg), origin, judged)


__all__ = ["Contents", "read_contents", "partner_alerts", "read_judgements", "same_as_edges", "alert_counts",
           "property_kinds", "convert",
           "REFUSED_LABELS", "REFUSED_TYPES", "RESERVED_NODE_PROPS", "RESERVED_EDGE_PROPS", "MAX_KEY",
           "MAX_COLUMN_NAME"]
