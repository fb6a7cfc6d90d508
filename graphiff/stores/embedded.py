"""The embedded store: one local DuckDB file, no server.

Each node label is a table ``n_<Label>`` keyed by ``key``; each relationship type a table
``r_<TYPE>`` keyed by ``rid`` (ends + identity properties). Upserts are ``INSERT ... ON
CONFLICT`` in one transaction per call, so a load killed midway leaves whole batches only and
re-running it converges to the same graph. DuckDB's write-ahead log makes the file crash-safe.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd

from graphiff.errors import StoreError
from graphiff.schema import model
from graphiff.stores.base import REL_ENDS, Store, rel_id


def _q(name: str) -> str:
    """Quote an identifier (column names may come from input headers)."""
    return '"' + str(name).replace('"', '""') + '"'


def _sql_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(s):
        return "BIGINT"
    if pd.api.types.is_float_dtype(s):
        return "DOUBLE"
    sample = s.dropna()
    if len(sample):
        v = sample.iloc[0]
        if isinstance(v, bool):
            return "BOOLEAN"
        if isinstance(v, (int, np.integer)) and all(isinstance(x, (int, np.integer)) for x in sample.iloc[:1000]):
            return "BIGINT"
        if isinstance(v, (float, int, np.floating, np.integer)) and all(
                isinstance(x, (int, float, np.integer, np.floating)) for x in sample.iloc[:1000]):
            return "DOUBLE"
    return "VARCHAR"


def _prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns with numbers become numeric; everything else text (pyarrow-friendly)."""
    out = {}
    for c in df.columns:
        s = df[c]
        t = _sql_type(s)
        if t == "DOUBLE":
            out[c] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif t == "BIGINT":
            out[c] = s.astype("Int64") if not pd.api.types.is_integer_dtype(s) else s
        elif t == "BOOLEAN":
            out[c] = s.astype("boolean")
        else:
            out[c] = s.astype("string").astype(object).where(s.notna(), None)
    return pd.DataFrame(out, index=df.index)


class EmbeddedStore(Store):
    """A graph in one DuckDB file (``path``); created on first use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.uri = str(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:
            raise StoreError(f"cannot open embedded store {self.path}: {exc}") from None
        self.con.execute("CREATE TABLE IF NOT EXISTS _loads (load_id VARCHAR PRIMARY KEY, info VARCHAR)")
        self._cols: dict[str, dict[str, str]] = {}

    # ---- helpers ----------------------------------------------------------------------
    def _tables(self) -> set[str]:
        return {r[0] for r in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}

    def _columns(self, table: str) -> dict[str, str]:
        if table not in self._cols:
            rows = self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]
            ).fetchall()
            self._cols[table] = {r[0]: r[1] for r in rows}
        return self._cols[table]

    def _ensure_table(self, table: str, pk: str, frame: pd.DataFrame) -> None:
        if table not in self._tables():
            self.con.execute(f"CREATE TABLE {_q(table)} ({_q(pk)} VARCHAR PRIMARY KEY)")
            self._cols.pop(table, None)
        have = self._columns(table)
        for c in frame.columns:
            if c not in have:
                t = _sql_type(frame[c])
                self.con.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(c)} {t}")
                have[c] = t

    def _upsert(self, table: str, pk: str, frame: pd.DataFrame, on_conflict: str) -> int:
        if frame.empty:
            return 0
        frame = _prepare(frame.drop_duplicates(subset=[pk], keep="last"))
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._ensure_table(table, pk, frame)
            have = self._columns(table)
            cols = list(frame.columns)
            self.con.register("_incoming", frame)
            select = ", ".join(
                f"CAST(_incoming.{_q(c)} AS {have[c]})" if have[c] != "VARCHAR" else f"CAST(_incoming.{_q(c)} AS VARCHAR)"
                for c in cols)
            collist = ", ".join(_q(c) for c in cols)
            if on_conflict == "keep":
                action = "DO NOTHING"
            else:
                sets = ", ".join(f"{_q(c)} = COALESCE(excluded.{_q(c)}, {_q(table)}.{_q(c)})" for c in cols if c != pk)
                action = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
            self.con.execute(
                f"INSERT INTO {_q(table)} ({collist}) SELECT {select} FROM _incoming ON CONFLICT ({_q(pk)}) {action}")
            self.con.unregister("_incoming")
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            self.con.execute("ROLLBACK")
            self._cols.pop(table, None)
            raise StoreError(f"embedded store write to {table} failed: {exc}") from None
        return len(frame)

    # ---- primitives -------------------------------------------------------------------
    def upsert_nodes(self, label: str, rows: pd.DataFrame, *, on_conflict: Literal["update", "keep"] = "update") -> int:
        model().node(label)
        return self._upsert(f"n_{label}", "key", rows, on_conflict)

    def upsert_rels(self, rel_type: str, rows: pd.DataFrame) -> int:
        rt = model().rel(rel_type)
        if rows.empty:
            return 0
        rows = rows.copy()
        for c in REL_ENDS:
            rows[c] = rows[c].astype(str)
        ident = rows[list(rt.identity)].astype(str).agg("|".join, axis=1) if rt.identity else pd.Series("", index=rows.index)
        rows.insert(0, "rid", [rel_id(rel_type, a, b, c, d, i) for a, b, c, d, i in
                               zip(rows["src_label"], rows["src"], rows["dst_label"], rows["dst"], ident)])
        # end nodes that do not exist yet are created bare, as MERGE does in Neo4j
        for end in ("src", "dst"):
            for label, keys in rows.groupby(f"{end}_label")[end]:
                bare = pd.DataFrame({"key": keys.unique()})
                self.upsert_nodes(str(label), bare, on_conflict="keep")
        return self._upsert(f"r_{rel_type}", "rid", rows, "update")

    def nodes(self, label: str, columns: list[str] | None = None) -> pd.DataFrame:
        model().node(label)
        if f"n_{label}" not in self._tables():
            return pd.DataFrame(columns=["key", *(columns or [])])
        if columns is None:
            return self.con.execute(f"SELECT * FROM {_q('n_' + label)} ORDER BY key").df()
        have = self._columns(f"n_{label}")
        sel = ", ".join(["key"] + [(_q(c) if c in have else f"NULL AS {_q(c)}") for c in columns if c != "key"])
        return self.con.execute(f"SELECT {sel} FROM {_q('n_' + label)} ORDER BY key").df()

    def rels(self, rel_type: str) -> pd.DataFrame:
        model().rel(rel_type)
        if f"r_{rel_type}" not in self._tables():
            return pd.DataFrame(columns=list(REL_ENDS))
        return self.con.execute(f"SELECT * EXCLUDE (rid) FROM {_q('r_' + rel_type)} ORDER BY rid").df()

    def delete_nodes(self, label: str, keys: list[str] | None = None) -> int:
        model().node(label)
        tables = self._tables()
        if f"n_{label}" not in tables:
            return 0
        self.con.execute("BEGIN TRANSACTION")
        try:
            if keys is None:
                n = self.con.execute(f"SELECT count(*) FROM {_q('n_' + label)}").fetchone()[0]
                self.con.execute(f"DELETE FROM {_q('n_' + label)}")
                for t in tables:
                    if t.startswith("r_"):
                        self.con.execute(f"DELETE FROM {_q(t)} WHERE src_label = ? OR dst_label = ?", [label, label])
            else:
                self.con.register("_del", pd.DataFrame({"key": [str(k) for k in keys]}))
                n = self.con.execute(f"SELECT count(*) FROM {_q('n_' + label)} WHERE key IN (SELECT key FROM _del)").fetchone()[0]
                self.con.execute(f"DELETE FROM {_q('n_' + label)} WHERE key IN (SELECT key FROM _del)")
                for t in tables:
                    if t.startswith("r_"):
                        self.con.execute(
                            f"DELETE FROM {_q(t)} WHERE (src_label = ? AND src IN (SELECT key FROM _del)) "
                            f"OR (dst_label = ? AND dst IN (SELECT key FROM _del))", [label, label])
                self.con.unregister("_del")
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            self.con.execute("ROLLBACK")
            raise StoreError(f"embedded store delete failed: {exc}") from None
        return int(n)

    def counts(self) -> dict[str, dict[str, int]]:
        nodes, rels = {}, {}
        for t in sorted(self._tables()):
            if t.startswith(("n_", "r_")):
                n = self.con.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0]
                if n:
                    (nodes if t.startswith("n_") else rels)[t[2:]] = int(n)
        return {"nodes": nodes, "relationships": rels}

    def record_load(self, info: dict[str, Any]) -> None:
        self.con.execute("INSERT INTO _loads VALUES (?, ?) ON CONFLICT (load_id) DO UPDATE SET info = excluded.info",
                         [info["load_id"], json.dumps(info, sort_keys=True, default=str)])

    def loads(self) -> list[dict[str, Any]]:
        rows = self.con.execute("SELECT info FROM _loads").fetchall()
        out = [json.loads(r[0]) for r in rows]
        return sorted(out, key=lambda d: d.get("first_loaded_at", d.get("loaded_at", "")))

    def wipe(self) -> None:
        for t in self._tables():
            if t.startswith(("n_", "r_")):
                self.con.execute(f"DROP TABLE {_q(t)}")
        self.con.execute("DELETE FROM _loads")
        self._cols.clear()

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:
            pass
