"""Resolved entities: the clusters of records that ``SAME_AS`` relationships join, and the
resolved view of the store's tables that detectors, explore, charts and packages read.

``graphiff resolve`` (:mod:`graphiff.resolve`) writes one ``SAME_AS`` relationship per scored
pair of records of one label, with a ``status``:

- ``linked`` (score above the upper threshold) and ``confirmed`` (an analyst said yes) join
  the two records into one resolved entity;
- ``review`` (between the thresholds) waits for an analyst; ``unsure`` was looked at and left
  open; neither joins anything;
- ``rejected`` (an analyst said no) never joins, and keeps the two records apart even when
  other links would chain them together (a cannot-link constraint).

A cluster's **resolved id** is the key of its representative: among its own records (not
imported from a partner package) the one that says most (the most properties filled: the
trader's own registration rather than another administration's note of it), ties to the
smallest key. Every record of a
cluster reads as that one entity in the resolved view: node tables keep one row per cluster
(the representative's values, gaps filled from the other records, saying which in
``filled_from``) with ``aliases`` (the other keys) and ``alias_names`` (their other names);
relationship ends and the reference columns of
record nodes (a declaration's ``exporter_id``, a payment's ``from_account``...) are rewritten
to the resolved id.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import numpy as np
import pandas as pd

from graphiff.model import model
from graphiff.model.identity import REL_ENDS, RESOLVED_COLUMNS

#: the labels entity resolution joins
RESOLVABLE = ("Trader", "Person", "Carrier", "BankAccount")
#: SAME_AS statuses that join two records
LINKING = ("linked", "confirmed")
#: SAME_AS statuses an analyst set (a re-run of ``graphiff resolve`` keeps them)
DECIDED = ("confirmed", "rejected", "unsure")
#: every SAME_AS status
STATUSES = ("linked", "review", "confirmed", "rejected", "unsure")
#: the source value of records imported from a partner package starts with this
PARTNER_SOURCE = "partner:"


@dataclass
class Resolution:
    """The clusters of one store's records (only clusters of two or more records).

    ``rep[label][key]`` is the resolved id of every clustered record (the representative maps
    to itself); ``members[label][rep]`` lists a cluster's keys, representative first.

    >>> r = Resolution.from_links([("Trader", "B", "A", "linked", 0.9), ("Trader", "C", "B", "linked", 0.8)])
    >>> r.members["Trader"]["A"], r.of("Trader", "C"), r.of("Trader", "Z")
    (['A', 'B', 'C'], 'A', 'Z')
    """

    rep: dict[str, dict[str, str]] = field(default_factory=dict)
    members: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.rep.values())

    def of(self, label: str, key: str) -> str:
        """The resolved id of a record (its own key when it is in no cluster)."""
        return self.rep.get(label, {}).get(key, key)

    def clusters(self, label: str) -> list[list[str]]:
        """Every cluster of ``label``, representative first, in representative order."""
        return [self.members[label][r] for r in sorted(self.members.get(label, {}))]

    @classmethod
    def from_links(cls, links: Iterable[tuple[str, str, str, str, float]],
                   partner_keys: dict[str, set[str]] | None = None,
                   filled: dict[str, dict[str, int]] | None = None) -> "Resolution":
        """Cluster records from ``(label, a, b, status, score)`` links.

        Joining links (:data:`LINKING`) are applied confirmed first, then by score, highest
        first; a link is skipped when it would put two records an analyst rejected into one
        cluster. ``partner_keys[label]`` are records imported from partners (never chosen as
        representative while the cluster has a record of its own); ``filled[label][key]`` how
        many properties a record has (the fullest record represents its cluster).

        Cost: O(L log L) for L links plus the size of the clusters merged.

        >>> r = Resolution.from_links([("Person", "A", "B", "linked", 0.99), ("Person", "B", "C", "linked", 0.9),
        ...                            ("Person", "A", "C", "rejected", 0.5)])
        >>> r.clusters("Person")
        [['A', 'B']]
        """
        partner_keys = partner_keys or {}
        filled = filled or {}
        groups, _ = _join(list(links))
        out = cls()
        for label, group in groups.items():
            own = partner_keys.get(label, set())
            full = filled.get(label, {})
            reps: dict[str, str] = {}
            members: dict[str, list[str]] = {}
            for g in group.values():
                rep = min(g, key=lambda k: (k in own, -full.get(k, 0), k))
                members[rep] = [rep] + sorted(k for k in g if k != rep)
                for k in g:
                    reps[k] = rep
            out.rep[label], out.members[label] = reps, members
        return out


def _join(rows: list[tuple[str, str, str, str, float]]) -> tuple[dict[str, dict[str, list[str]]], list[int]]:
    """Kruskal with cannot-links: the groups the joining links make per label, and the
    positions of the links that joined two groups (the spanning forest; every other joining
    link is redundant or blocked by a rejection)."""
    cannot: dict[str, dict[str, set[str]]] = {}
    for label, a, b, status, _ in rows:
        if status == "rejected":
            cannot.setdefault(label, {}).setdefault(a, set()).add(b)
            cannot.setdefault(label, {}).setdefault(b, set()).add(a)
    order = sorted((n for n, r in enumerate(rows) if r[3] in LINKING and r[1] != r[2]),
                   key=lambda n: (rows[n][0], rows[n][3] != "confirmed", -float(rows[n][4] or 0.0),
                                  rows[n][1], rows[n][2]))
    groups: dict[str, dict[str, list[str]]] = {}
    used: list[int] = []
    root: dict[tuple[str, str], str] = {}
    for n in order:
        label, a, b = rows[n][0], rows[n][1], rows[n][2]
        group = groups.setdefault(label, {})
        no = cannot.get(label, {})
        ra, rb = root.get((label, a), a), root.get((label, b), b)
        if ra == rb:
            continue
        ga, gb = group.get(ra, [a]), group.get(rb, [b])
        if no and any(no.get(x, set()).intersection(gb) for x in ga):
            continue
        if len(ga) < len(gb):
            ra, rb, ga, gb = rb, ra, gb, ga
        ga.extend(gb)
        group[ra] = ga
        group.pop(rb, None)
        for x in gb:
            root[(label, x)] = ra
        root[(label, ra)] = ra
        used.append(n)
    return groups, sorted(used)


def spanning_links(links: Iterable[tuple[str, str, str, str, float]]) -> list[int]:
    """The positions of the joining links that make the clusters (a spanning forest, in the
    order :meth:`Resolution.from_links` applies links): the same clusters come from these
    links alone, with the rejections. Cost: as :meth:`Resolution.from_links`.

    >>> spanning_links([("T", "A", "B", "linked", 0.99), ("T", "B", "C", "linked", 0.95),
    ...                 ("T", "A", "C", "linked", 0.9), ("T", "C", "D", "review", 0.7)])
    [0, 1]
    """
    return _join(list(links))[1]


def resolution_from_tables(same_as: pd.DataFrame, partner_keys: dict[str, set[str]] | None = None,
                           filled: dict[str, dict[str, int]] | None = None) -> Resolution:
    """The :class:`Resolution` of a store's ``SAME_AS`` table (columns :data:`REL_ENDS`,
    ``status``, ``score``). Cost: O(L log L) for L relationships."""
    if same_as is None or not len(same_as) or "status" not in same_as.columns:
        return Resolution()
    f = same_as[same_as["src_label"].astype(str) == same_as["dst_label"].astype(str)]
    score = pd.to_numeric(f["score"], errors="coerce").fillna(0.0) if "score" in f.columns else 0.0
    links = zip(f["src_label"].astype(str), f["src"].astype(str), f["dst"].astype(str),
                f["status"].astype(str), np.broadcast_to(np.asarray(score, dtype=float), len(f)))
    return Resolution.from_links(links, partner_keys, filled)


@lru_cache(maxsize=1)
def reference_columns() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """``{record label: ((column, resolvable labels it names), ...)}``, read from the input
    contract (``files.yaml``): the columns of record nodes that name a trader, person,
    carrier or account by key (a declaration's ``exporter_id``, an account's ``holder_id``...).

    >>> dict(reference_columns()["Payment"])
    {'from_account': ('BankAccount',), 'to_account': ('BankAccount',)}
    """
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for fk in model().files.values():
        if not fk.label:
            continue
        for emit in fk.emits:
            for end in (emit.source, emit.target):
                labels = tuple(x for x in end.labels if x in RESOLVABLE)
                if end.column and labels and not end.is_key:
                    out.setdefault(fk.label, {})[end.column] = labels
    return {k: tuple(v.items()) for k, v in out.items()}


def _remap(values: pd.Series, maps: list[dict[str, str]]) -> pd.Series:
    """``values`` with every key found in one of ``maps`` replaced by its resolved id."""
    out = values
    for m in maps:
        if not m:
            continue
        text = out.astype("string")
        hit = text.map(m)
        if hit.notna().any():
            out = hit.where(hit.notna(), out).astype(object)
    return out


def resolve_nodes(label: str, frame: pd.DataFrame, res: Resolution) -> pd.DataFrame:
    """The resolved view of one node table: one row per cluster (see the module docstring),
    reference columns rewritten. Cost: O(n) plus a group-by over the clustered rows."""
    refs = reference_columns().get(label, ())
    if refs and len(frame):
        frame = frame.copy()
        for column, labels in refs:
            if column in frame.columns:
                frame[column] = _remap(frame[column], [res.rep.get(x, {}) for x in labels])
    reps = res.rep.get(label)
    if not reps or not len(frame):
        return frame
    if any(c in frame.columns for c in RESOLVED_COLUMNS):   # reserved: never a record's own value
        frame = frame.drop(columns=[c for c in RESOLVED_COLUMNS if c in frame.columns])
    keys = frame["key"].astype(str)
    rep = keys.map(reps)
    clustered = rep.notna().to_numpy()
    if not clustered.any():
        return frame
    part = frame[clustered].assign(_rep=rep[clustered].to_numpy(), _own=(keys[clustered] != rep[clustered]).to_numpy())
    part = part.sort_values(["_rep", "_own", "key"], kind="stable")
    merged = part.groupby("_rep", sort=True).first()
    merged["key"] = merged.index.astype(str)
    members = res.members[label]
    merged["aliases"] = ["; ".join(members[r][1:]) for r in merged.index]
    if "name" in part.columns:
        names = part.groupby("_rep", sort=True)["name"].agg(
            lambda s: "; ".join(dict.fromkeys(str(v) for v in s.iloc[1:].dropna() if str(v) != str(s.iloc[0]))))
        merged["alias_names"] = names.reindex(merged.index).to_numpy()
    merged["filled_from"] = _filled_from(part, merged)
    merged = merged.drop(columns=["_own"]).reset_index(drop=True)
    extra = [c for c in (*RESOLVED_COLUMNS, "filled_from") if c in merged.columns and c not in frame.columns]
    return pd.concat([frame[~clustered], merged], ignore_index=True)[list(frame.columns) + extra]


def _filled_from(part: pd.DataFrame, merged: pd.DataFrame) -> list[str | None]:
    """Per resolved entity, the values its representative lacks and another record gave:
    ``"city: T2'; tin: T3"`` (None when the representative's own record holds every value)."""
    own = part[~part["_own"].to_numpy(dtype=bool)].drop_duplicates("_rep").set_index("_rep")
    notes: list[list[str]] = [[] for _ in range(len(merged))]
    for c in part.columns:
        if c in ("key", "_rep", "_own") or c.startswith("_") or c in RESOLVED_COLUMNS:
            continue
        mine = own[c].reindex(merged.index) if c in own.columns else pd.Series(None, index=merged.index)
        gap = (merged[c].notna() & mine.isna()).to_numpy(dtype=bool)
        if not gap.any():
            continue
        src = part[part[c].notna().to_numpy(dtype=bool)].groupby("_rep")["key"].first().reindex(merged.index)
        for n in np.flatnonzero(gap):
            notes[n].append(f"{c}: {src.iloc[n]}")
    return ["; ".join(x) if x else None for x in notes]


def resolve_rels(rel_type: str, frame: pd.DataFrame, res: Resolution) -> pd.DataFrame:
    """The resolved view of one relationship table: ends rewritten to resolved ids, the
    relationships that became one dropped as duplicates, and a relationship that now joins
    an entity to itself through ``SAME_AS`` dropped (``SAME_AS`` is empty in the resolved
    view: the aliases are on the node). Cost: O(n)."""
    if rel_type == "SAME_AS":
        return frame.iloc[0:0]
    if not res or not len(frame):
        return frame
    out = frame.copy()
    for end, label_col in (("src", "src_label"), ("dst", "dst_label")):
        labels = out[label_col].astype(str)
        for label, reps in res.rep.items():
            m = (labels == label).to_numpy()
            if m.any() and reps:
                vals = out.loc[m, end].astype(str)
                out.loc[m, end] = vals.map(reps).fillna(vals).to_numpy()
    ident = list(model().rel(rel_type).identity)
    return out.drop_duplicates(subset=[*REL_ENDS, *[c for c in ident if c in out.columns]]).reset_index(drop=True)
