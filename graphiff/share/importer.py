"""Importing a partner's sharing package into a store (docs/sharing.md, "Import a partner's
package").

:func:`import_package` checks everything before the first write: the zip, its limits and the
manifest (:mod:`graphiff.share.verify`), then every table against the model
(:mod:`graphiff.share.contents`), then the package against the store (key conflicts, column
names and types). Only then does it write, in one unit of work with the load record
(:meth:`graphiff.stores.base.Store.atomic`): the import completes and is recorded, or the
store is left exactly as it was.

A partner's ``SAME_AS`` (its entity resolution: which of its records are one entity) is
imported like any relationship, with its status, score and evidence, between the partner's
prefixed keys: it joins partner records among themselves, never a local record; the summary's
``same_as`` counts them by status and lists those naming an id a local record also has.

Partner records never merge into local ones by id: every partner node is stored under the
source-qualified key :func:`partner_key` (``"<producer>:<id>"``, the id kept as
``source_key``), every partner node and relationship carries ``source = "partner:<producer>"``
(local records carry no ``source``), and the properties that name other records (the model's
key and reference columns, :func:`reference_props`) are qualified the same way, so detectors
joining on them stay within one source. Country nodes (ISO codes, reference data) are shared:
a package may add a missing one, never change one. Partner ids equal to a local id of the same
label are reported as collisions, kept apart. Relationship identities are
:func:`graphiff.model.identity.rel_id`; records of earlier imports from the same producer keep
their values (a package only fills their gaps), so importing twice changes nothing.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from graphiff.errors import PackageError
from graphiff.graph.resolution import RESOLVABLE
from graphiff.ingest.writer import Provenance, write_nodes, write_rels
from graphiff.model import model
from graphiff.model.identity import PROVENANCE, REL_ENDS, rel_ids
from graphiff.share.contents import Contents, alert_counts, convert, read_contents
from graphiff.share.verify import read_package
from graphiff.stores import Store

#: Labels whose nodes are shared by every source (their key is a code, not a record id).
SHARED_LABELS = ("Country",)
#: The most collisions listed by name in an import summary (all are counted).
MAX_COLLISIONS_LISTED = 20


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def partner_key(producer: str, key: str) -> str:
    """The store key of a partner record: the producer, a colon and the partner's id. The same
    producer and id always give the same key (re-importing is idempotent); a local key never
    equals it by accident unless it starts with the producer's name (then the import is refused).

    >>> partner_key("HMRC Team A", "T100")
    'HMRC Team A:T100'
    """
    return f"{producer}:{key}"


def partner_source(producer: str) -> str:
    """The ``source`` property of every record a package from ``producer`` writes.

    >>> partner_source("HMRC Team A")
    'partner:HMRC Team A'
    """
    return f"partner:{producer}"


@lru_cache(maxsize=1)
def reference_props() -> dict[str, dict[str, str | None]]:
    """For each label, the properties that hold a record's id (its key columns, derived key and
    the columns files.yaml joins to other records, including the settlement lookup columns),
    mapped to their list separator (``None``: one id). A partner's values of these are
    qualified like its keys. Country ends (ISO codes) are not ids.

    >>> reference_props()["Payment"]["from_account"], reference_props()["Declaration"]["container_ids"]
    (None, ';')
    """
    m = model()
    out: dict[str, dict[str, str | None]] = {label: {nt.key: None} for label, nt in m.nodes.items()
                                             if label not in SHARED_LABELS}
    for fk in m.files.values():
        if not fk.label or fk.label in SHARED_LABELS:
            continue
        own = out.setdefault(fk.label, {})
        for c in fk.key:
            if fk.types.get(c) != "int":
                own.setdefault(c, None)
        for prop, how in fk.node.derive.items():
            if how.get("copy") == "key":
                own.setdefault(prop, None)
        for e in fk.emits:
            for end in (e.source, e.target):
                if end.column and not end.is_key and set(end.labels) - set(SHARED_LABELS):
                    own[end.column] = end.split
                for c in end.lookup:
                    own.setdefault(c, None)
                    for label in end.labels:
                        out.setdefault(label, {}).setdefault(c, None)
    return out


def _qualify(values: pd.Series, prefix: str, split: str | None) -> pd.Series:
    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return v
        if split:
            return split.join(prefix + x if x else x for x in str(v).split(split))
        return prefix + str(v)
    return values.astype(object).map(one)


def _caption(label: str, row: dict[str, Any] | None) -> str | None:
    if row is None:
        return None
    v = row.get(model().node(label).caption)
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _check_store_columns(incoming: pd.DataFrame, local: pd.DataFrame, where: str) -> None:
    """Refuse columns that differ from a stored one only in letter case, and values a numeric
    stored column cannot hold."""
    have = {c.lower(): c for c in local.columns}
    for c in incoming.columns:
        if c in PROVENANCE or c in REL_ENDS or c == "key":
            continue
        stored = have.get(c.lower())
        if stored is not None and stored != c:
            raise PackageError(f"{where}: column {c!r} differs only in letter case from the stored property "
                               f"{stored!r}")
        if stored is None or pd.api.types.is_bool_dtype(local[c]) or not pd.api.types.is_numeric_dtype(local[c]):
            continue
        if pd.api.types.is_numeric_dtype(incoming[c]):
            continue
        kind = "int" if pd.api.types.is_integer_dtype(local[c]) else "float"
        for v in incoming[c].dropna():
            try:
                convert(v, kind)
            except ValueError as exc:
                raise PackageError(f"{where}, column {c!r}: the store holds numbers here; {exc}") from None


def _only_gaps(incoming: pd.DataFrame, local: pd.DataFrame, on: str, fixed: Iterable[str] = ()) -> pd.DataFrame:
    """``incoming`` with every value the stored row already has blanked out (stored data wins);
    rows of known records left with nothing to write are dropped. Columns in ``fixed`` (keys,
    relationship ends and identity) are never blanked."""
    incoming = incoming.reset_index(drop=True)
    if not len(local) or on not in local.columns:
        return incoming
    local = local.drop_duplicates(subset=[on]).set_index(on)
    known = incoming[on].isin(local.index).to_numpy()
    if not known.any():
        return incoming
    out = incoming.astype(object).copy()
    fixed = {on, *REL_ENDS, *fixed}
    value_cols = [c for c in out.columns if c not in fixed]
    for c in value_cols:
        if c in local.columns:
            have = local[c].reindex(out[on]).notna().to_numpy()
            out.loc[have, c] = None
    anything = out[value_cols].notna().any(axis=1).to_numpy() if value_cols else np.zeros(len(out), dtype=bool)
    return out[~known | anything].reset_index(drop=True)


class _Plan:
    """Everything an import will write, computed from the package and the store before the
    first write: qualified node and relationship frames, bare end nodes, collisions."""

    def __init__(self, store: Store, contents: Contents, producer: str, pkg: str, prov: Provenance):
        self.prov = prov
        self.prefix = partner_key(producer, "")
        self.source = partner_source(producer)
        self.pkg = pkg
        self.store = store
        self.local: dict[str, pd.DataFrame] = {}
        self.nodes: dict[str, pd.DataFrame] = {}
        self.bare: dict[str, pd.DataFrame] = {}
        self.rels: dict[str, pd.DataFrame] = {}
        self.collisions: list[dict[str, Any]] = []
        self.n_collisions = 0
        self.same_as: dict[str, Any] = {"count": 0, "statuses": {}, "skipped": 0, "naming_local_ids": 0,
                                        "listed": []}
        self._described: dict[str, set[str]] = {label: set(f["key"]) for label, f in contents.nodes.items()}
        for label in sorted(contents.nodes):
            self._plan_nodes(label, contents.nodes[label].drop_duplicates(subset=["key"], keep="last"))
        ends: dict[str, set[str]] = {}
        for frame in contents.rels.values():
            for end in ("src", "dst"):
                for label, keys in frame.groupby(f"{end}_label")[end]:
                    ends.setdefault(str(label), set()).update(set(keys) - self._described.get(str(label), set()))
        for label in sorted(ends):
            if ends[label]:
                self._plan_nodes(label, pd.DataFrame({"key": sorted(ends[label]), "_line": None}), bare=True)
        for t in sorted(contents.rels):
            self._plan_rels(t, contents.rels[t])

    def key(self, label: str, key: str) -> str:
        return key if label in SHARED_LABELS else self.prefix + key

    def _stored(self, label: str) -> pd.DataFrame:
        if label not in self.local:
            self.local[label] = self.store.nodes(label)
        return self.local[label]

    def _plan_nodes(self, label: str, frame: pd.DataFrame, *, bare: bool = False) -> None:
        where = f"package {self.pkg}: {label}"
        local = self._stored(label)
        keyprop = model().node(label).key
        if label in SHARED_LABELS:       # reference data: add a missing node, never change one
            out = pd.DataFrame({"key": frame["key"], keyprop: frame["key"], "_line": frame["_line"]})
            out = out[~out["key"].isin(set(local["key"]))] if len(local) else out
            self.bare[label] = pd.concat([self.bare.get(label, out.iloc[:0]), out], ignore_index=True)
            return
        sources = local["source"] if "source" in local.columns else pd.Series(None, index=local.index, dtype=object)
        is_local = sources.isna().to_numpy()
        local_rows = local[is_local].set_index("key") if len(local) else local
        hit = frame["key"].isin(set(local_rows.index)) if len(local) else pd.Series(False, index=frame.index)
        for row in frame[hit.to_numpy()].to_dict("records"):
            self.n_collisions += 1
            if len(self.collisions) < MAX_COLLISIONS_LISTED:
                self.collisions.append({"label": label, "id": row["key"],
                                        "local": _caption(label, local_rows.loc[row["key"]].to_dict()),
                                        "partner": None if bare else _caption(label, row)})
        out = frame.copy()
        out.insert(0, "source_key", out["key"].astype(str))
        for prop, split in reference_props().get(label, {}).items():
            if prop in out.columns and prop != keyprop:
                out[prop] = _qualify(out[prop], self.prefix, split)
        out["key"] = self.prefix + out["source_key"]
        out[keyprop] = out["key"]
        out["source"] = self.source
        if len(local):
            taken = local[local["key"].isin(set(out["key"])) & (sources != self.source).to_numpy()]
            if len(taken):
                raise PackageError(f"{where} {taken['key'].iloc[0]!r:.120} is already held by a record of another "
                                   "source; the package cannot be kept apart from it (nothing imported)")
            _check_store_columns(out, local, f"{where}")
        if bare:
            out = out[~out["key"].isin(set(local["key"]))] if len(local) else out
            self.bare[label] = pd.concat([self.bare.get(label, out.iloc[:0]), out], ignore_index=True)
        else:   # stamped before the gaps are found, so a stored node keeps its own provenance
            self.nodes[label] = _only_gaps(self.prov.stamp(out), local, "key")

    def _plan_rels(self, t: str, frame: pd.DataFrame) -> None:
        rt = model().rel(t)
        out = frame.copy()
        if t == "SAME_AS":
            out = self._note_same_as(out)
        for end in ("src", "dst"):
            shared = out[f"{end}_label"].isin(SHARED_LABELS).to_numpy()
            out[end] = np.where(shared, out[end].astype(str), self.prefix + out[end].astype(str))
        out["source"] = self.source
        for c in rt.identity:
            if c not in out.columns:
                out[c] = None

        out = self.prov.stamp(out)   # before the gaps, as nodes
        out.insert(0, "rid", rel_ids(t, out, rt.identity))
        out = out.drop_duplicates(subset=["rid"], keep="last")
        local = self.store.rels(t)
        if len(local):
            _check_store_columns(out.drop(columns=["rid"]), local, f"package {self.pkg}: {t}")
            for c in rt.identity:
                if c not in local.columns:
                    local[c] = None
            local = local.assign(rid=rel_ids(t, local, rt.identity))
        self.rels[t] = _only_gaps(out, local, "rid", rt.identity)


    def _note_same_as(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The partner's SAME_AS rows that may be written, counted for the summary.

        A partner's SAME_AS joins two of the partner's records only: both ends get the partner
        prefix like every relationship end, so an id equal to a local record's names the
        partner's own record of that id (kept apart from the local one, a collision) and never
        the local record. Rows whose ends are not both records of a resolvable label are
        skipped (the package check refuses them before; this is the last guard)."""
        ok = (frame["src_label"].isin(RESOLVABLE) & (frame["src_label"] == frame["dst_label"])).to_numpy()
        ok = ok & ~frame["src_label"].isin(SHARED_LABELS).to_numpy()
        self.same_as["skipped"] += int((~ok).sum())
        frame = frame[ok]
        self.same_as["count"] += int(len(frame))
        if "status" in frame.columns:
            for status, n in frame["status"].astype(str).value_counts().sort_index().items():
                self.same_as["statuses"][str(status)] = self.same_as["statuses"].get(str(status), 0) + int(n)
        for label, rows in frame.groupby("src_label"):
            local = self._stored(str(label))
            if not len(local):
                continue
            src = local["source"] if "source" in local.columns else pd.Series(None, index=local.index, dtype=object)
            own = set(local.loc[src.isna().to_numpy(), "key"].astype(str))
            for a, b in zip(rows["src"].astype(str), rows["dst"].astype(str)):
                named = [k for k in (a, b) if k in own]
                if not named:
                    continue
                self.same_as["naming_local_ids"] += 1
                if len(self.same_as["listed"]) < MAX_COLLISIONS_LISTED:
                    self.same_as["listed"].append({"label": str(label), "src": a, "dst": b, "local_ids": named})
        return frame


def import_package(store: Store, path: str | Path) -> dict[str, Any]:
    """Verify the package at ``path`` and import it into ``store``; return a summary.

    Nothing is written unless the zip, the manifest and every table pass their checks and the
    package fits the store (:mod:`graphiff.share.verify`, :mod:`graphiff.share.contents`); any
    problem raises :class:`~graphiff.errors.PackageError` naming the file, line and column, and
    the store is left as it was. The writes and the load record form one unit of work. Partner
    records are kept apart from local ones (module docstring); rows get provenance ``_source =
    "package:<producer>:<zip name>"``, ``_load_id = "P" + sha256(manifest)[:12]``. The partner's
    alerts are validated and counted (``partner_alerts``, also in the load record), never
    written. Importing the same package twice changes nothing.

    Parameters
    ----------
    store : Store
        Where to import.
    path : str or Path
        The package zip.

    Returns
    -------
    dict
        The load record (``load_id``, ``producer``, ``purpose``, ``marking``, ``redaction``,
        ``loaded`` counts, ``collisions``, ``same_as`` -- the partner's SAME_AS: ``count``,
        ``statuses``, ``skipped``, ``naming_local_ids`` and the first of those ``listed`` --,
        ``partner_alerts``, ...) plus ``already_imported``,
        ``written`` (rows written by label and type) and ``alerts`` (the partner's alert count).
        Cost: the package held in memory once; each label and type of the package read from the
        store once.
    """
    path = Path(path)
    manifest, manifest_bytes, files = read_package(path)
    contents = read_contents(files, path.name)
    producer = str(manifest["producer"])
    load_id = "P" + hashlib.sha256(manifest_bytes).hexdigest()[:12]
    previous = next((d for d in store.loads() if d.get("load_id") == load_id), None)
    now = _now()
    loaded_at = (previous or {}).get("loaded_at") or now
    prov = Provenance(source=f"package:{producer}:{path.name}", load_id=load_id, loaded_at=loaded_at)
    plan = _Plan(store, contents, producer, path.name, prov)

    info = {
        "load_id": load_id,
        "kind": "package",
        "producer": producer,
        "package": path.name,
        "source": prov.source,
        "record_source": plan.source,
        "purpose": manifest.get("purpose"),
        "marking": manifest.get("marking"),
        "redaction": manifest["redaction"]["policy"],
        "created": manifest.get("created"),
        "graphiff_version": manifest.get("graphiff_version"),
        "read_from": contents.read_from,
        "loaded": {"nodes": {k: int(len(v)) for k, v in sorted(contents.nodes.items())},
                   "relationships": {k: int(len(v)) for k, v in sorted(contents.rels.items())}},
        "collisions": {"count": plan.n_collisions, "listed": plan.collisions},
        "same_as": plan.same_as,
        "partner_alerts": alert_counts(contents.alerts),
        "files": [{"file": k, **v} for k, v in sorted(manifest["files"].items())],
        "loaded_at": loaded_at,
        "first_loaded_at": (previous or {}).get("first_loaded_at", loaded_at),
    }
    written_nodes: dict[str, int] = {}
    written_rels: dict[str, int] = {}
    with store.atomic(load_id):
        for label, frame in sorted(plan.nodes.items()):
            written_nodes[label] = write_nodes(store, label, frame, None)   # stamped when planned
        for label, frame in sorted(plan.bare.items()):
            write_nodes(store, label, frame, prov, on_conflict="keep")
        for t, frame in sorted(plan.rels.items()):
            if len(frame):
                write_rels(store, t, frame.drop(columns=["rid"]))
            written_rels[t] = int(len(frame))
        if previous is None:
            store.record_load(info)
    return {**info, "already_imported": previous is not None,
            "written": {"nodes": written_nodes, "relationships": written_rels},
            "alerts": len(contents.alerts)}


__all__ = ["import_package", "partner_key", "partner_source", "reference_props", "SHARED_LABELS",
           "MAX_COLLISIONS_LISTED"]
