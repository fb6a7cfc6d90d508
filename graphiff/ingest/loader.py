"""The load: files -> (mapping) -> validation/normalisation -> quarantine -> store upserts."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from graphiff.errors import InvalidInput
from graphiff.ingest.mapping import CANONICAL_COLUMNS, Mapping, load_mapping
from graphiff.ingest.quarantine import Quarantine
from graphiff.ingest.readers import SUFFIXES, Chunk, header, read_chunks
from graphiff.model import FileKind, model
from graphiff.model import values as nz
from graphiff.stores import Store

KIND_ORDER = ["rates", "traders", "persons", "carriers", "officers", "accounts", "declarations", "payments",
              "cash_reports"]
Progress = Callable[[str, int], None]


@dataclass
class LoadResult:
    load_id: str
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    quarantine: str | None = None
    files: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"load_id": self.load_id, "loaded": self.loaded, "quarantined": self.quarantined,
                "quarantine": self.quarantine, "files": self.files}


@dataclass
class _Source:
    path: Path
    kind: str
    mapping: Mapping | None


def kind_of_name(stem: str) -> str:
    """The file kind a name says: ``declarations``, ``declarations_2024`` or ``rates-krw`` ..."""
    stem = stem.lower()
    for kind in KIND_ORDER:
        if stem == kind or stem.startswith((kind + "_", kind + "-", kind + ".")):
            return kind
    return stem


def discover(paths: Iterable[str | Path], mappings: list[Mapping]) -> list[_Source]:
    """Which file is which kind: a mapping's ``match``, else the canonical file name."""
    out: list[_Source] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InvalidInput("no such file or folder", file=str(raw))
        candidates = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
        for f in candidates:
            mapping = next((m for m in mappings if m.applies_to(f)), None)
            kind = mapping.kind if mapping else kind_of_name(f.stem)
            if f.suffix.lower() not in SUFFIXES or kind not in CANONICAL_COLUMNS:
                if p.is_dir():
                    continue  # a folder may hold other files (truth.json, README...)
                raise InvalidInput("cannot tell what this file holds: name it after its kind, e.g. declarations.csv "
                                   "or declarations_2024.csv "
                                   f"({', '.join(KIND_ORDER)}) or give a --mapping", file=f.name)
            out.append(_Source(f, kind, mapping))
    if not out:
        raise InvalidInput("no input files found (expected canonical names such as declarations.csv)",
                           file=", ".join(str(p) for p in paths))
    return sorted(out, key=lambda s: (KIND_ORDER.index(s.kind), s.path.name))


def load_id_for(sources: list[_Source]) -> str:
    """A load id from the content of the files and mappings: the same input, the same id."""
    h = hashlib.sha256()
    for s in sources:
        h.update(s.kind.encode())
        with s.path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if s.mapping:
            h.update(repr(s.mapping).encode())
    return "L" + h.hexdigest()[:12]


def load_paths(store: Store, paths: Iterable[str | Path], *, mappings: Iterable[str | Path] = (),
               quarantine_dir: str | Path = "quarantine", progress: Progress | None = None) -> LoadResult:
    """Load files or folders into ``store``.

    Good rows are upserted (idempotent); bad rows go to ``quarantine_dir/<load_id>.csv`` with
    file, line, column, value and reason. Fatal problems raise :class:`InvalidInput`.
    """
    maps = [load_mapping(m) for m in mappings]
    sources = discover(paths, maps)
    for s in sources:  # fail fast on fatal header problems before writing anything
        _check_header(s)
    load_id = load_id_for(sources)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    quarantine = Quarantine(Path(quarantine_dir) / f"{load_id}.csv")
    result = LoadResult(load_id)
    ctx = _Context(store, load_id, now)
    try:
        for s in sources:
            ctx.new_file()
            loaded = 0
            seen: dict[str, int] = {}
            for chunk in read_chunks(s.path):
                n = _load_chunk(ctx, s, chunk, quarantine, seen)
                loaded += n
                if progress:
                    progress(s.kind, len(chunk.frame) + len(chunk.bad_rows))
            result.loaded[s.kind] = result.loaded.get(s.kind, 0) + loaded
            result.files.append({"file": s.path.name, "kind": s.kind, "loaded": loaded})
    finally:
        quarantine.close()
    result.quarantined = {k: int(v) for k, v in quarantine.rows_by_kind.items()}
    for k in result.loaded:
        result.quarantined.setdefault(k, 0)
    result.quarantine = str(quarantine.path) if quarantine.total else None
    info = result.to_dict() | {"loaded_at": now}
    previous = next((d for d in store.loads() if d.get("load_id") == load_id), None)
    info["first_loaded_at"] = previous.get("first_loaded_at", now) if previous else now
    store.record_load(info)
    return result


def _check_header(s: _Source) -> None:
    cols = header(s.path)
    if s.mapping:
        s.mapping.check_columns(s.path.name, cols)
        cols = [r.target for r in s.mapping.rules]
    kind = model().files[s.kind]
    for c in kind.required:
        if c not in cols:
            raise InvalidInput(f"missing required column for {s.kind}", file=s.path.name, column=c)
    if s.kind == "declarations" and "exporter_id" not in cols and "importer_id" not in cols:
        raise InvalidInput("declarations need an exporter_id or importer_id column", file=s.path.name,
                           column="exporter_id")
    if s.kind == "rates" and "month" not in cols and "date" not in cols:
        raise InvalidInput("rates need a month or date column", file=s.path.name, column="month")


class _Context:
    """What a load needs across files: the store, provenance and exchange rates."""

    def __init__(self, store: Store, load_id: str, now: str):
        self.store = store
        self.load_id = load_id
        self.now = now
        self._rates: dict[tuple[str, str], float] | None = None
        self._cache: dict[object, object] = {}

    def new_file(self) -> None:
        """Forget lookups read from the store (a file may change what the next one sees)."""
        self._cache.clear()

    def node_keys(self, label: str) -> pd.Index:
        """The keys of ``label`` in the store (a hashed index), read once per file."""
        if ("keys", label) not in self._cache:
            self._cache[("keys", label)] = pd.Index(self.store.nodes(label, [])["key"].to_numpy(dtype=object))
        return self._cache[("keys", label)]  # type: ignore[return-value]

    def declaration_refs(self) -> pd.DataFrame:
        """Declaration keys with their declaration_id and invoice_no, read once per file."""
        if "decl" not in self._cache:
            self._cache["decl"] = self.store.nodes("Declaration", ["declaration_id", "invoice_no"])
        return self._cache["decl"]  # type: ignore[return-value]

    def prov(self, file: str, lines: np.ndarray) -> dict[str, object]:
        return {"_source": file, "_line": lines.astype("int64"), "_load_id": self.load_id, "_loaded_at": self.now}

    def rates(self) -> dict[tuple[str, str], float]:
        if self._rates is None:
            df = self.store.nodes("Rate", ["currency", "month", "usd_per_unit"])
            self._rates = {(c, m): float(u) for c, m, u in zip(df["currency"], df["month"], df["usd_per_unit"])
                           if c and m and u == u}
        return self._rates

    def to_usd(self, amount: pd.Series, currency: pd.Series, date: pd.Series,
               given: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        """USD values and their status (given | converted | unconvertible)."""
        rates = self.rates()
        month = date.astype("string").str.slice(0, 7).to_numpy(dtype=object)
        cur = currency.to_numpy(dtype=object)
        rate = np.array([1.0 if c == "USD" else rates.get((c, m), np.nan) for c, m in zip(cur, month)], dtype="float64")
        usd = pd.Series(pd.to_numeric(amount, errors="coerce").to_numpy(dtype="float64", na_value=np.nan) * rate,
                        index=amount.index)
        status = pd.Series(np.where(usd.notna(), "converted", "unconvertible"), index=amount.index, dtype=object)
        if given is not None:
            g = pd.to_numeric(given, errors="coerce").astype("float64")
            usd = g.where(g.notna(), usd)
            status = status.where(g.isna(), "given")
        return usd, status


def _validate(s: _Source, kind: FileKind, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalised frame and the errors (row, column, value, reason)."""
    errors: list[pd.DataFrame] = []
    out = frame.copy()

    def err(mask: pd.Series, column: str, reason: str) -> None:
        if mask.any():
            idx = np.flatnonzero(mask.to_numpy())
            errors.append(pd.DataFrame({"row": idx, "column": column,
                                        "value": frame[column].iloc[idx].to_numpy() if column in frame else "",
                                        "reason": reason}))

    for c in kind.required:
        blank = out[c].isna() | (out[c].astype("string").str.strip() == "")
        err(blank, c, "missing required value")
    for c, t in kind.types.items():
        if c in out.columns:
            check, reason = nz.checker(t)
            values, bad = check(out[c])
            err(bad, c, reason)
            out[c] = values
    for c in out.columns:
        if c not in kind.types and not pd.api.types.is_numeric_dtype(out[c]):
            text = out[c].astype(nz.TEXT).str.strip()
            out[c] = text.where(text != "")
    for c in ("account_id", "from_account", "to_account"):
        if c in out.columns and (s.kind in ("accounts", "payments") or c == "account_id"):
            acc = nz.normalise_account(out[c].fillna(""))
            out[c] = acc.where(acc != "")
            err(nz.check_iban(out[c]), c, nz.REASONS["iban"])
    if s.kind == "declarations":
        ex = out.get("exporter_id", pd.Series(None, index=out.index))
        im = out.get("importer_id", pd.Series(None, index=out.index))
        err(ex.isna() & im.isna(), "exporter_id", "declaration names neither exporter_id nor importer_id")
    if s.kind == "rates":
        month = out.get("month", pd.Series(None, index=out.index, dtype=object))
        if "date" in out.columns:
            month = month.where(month.notna(), out["date"].astype("string").str.slice(0, 7))
        err(month.isna() & (out.get("date", pd.Series(None, index=out.index)).isna()), "month",
            "missing required value")
        out["month"] = month
    errs = pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=["row", "column", "value", "reason"])
    return out, errs


def _key_of(kind: str, df: pd.DataFrame) -> pd.Series:
    if kind == "declarations":
        return df["declaration_id"].astype(str) + "/" + df["item_no"].astype(str)
    if kind == "rates":
        return df["currency"].astype(str) + "/" + df["month"].astype(str)
    if kind == "officers":
        return df["officer_id"].astype(str) + "|" + df["company_id"].astype(str) + "|" + df["role"].astype(str)
    return df[model().files[kind].key[0]].astype(str)


def _load_chunk(ctx: _Context, s: _Source, chunk: Chunk, q: Quarantine, seen: dict[str, int]) -> int:
    file = s.path.name
    for b in chunk.bad_rows:
        q.add(file, s.kind, b.line, None, b.text, b.reason)
    frame = chunk.frame
    if frame.empty:
        return 0
    frame = s.mapping.apply(frame) if s.mapping else frame
    frame = frame.reset_index(drop=True)
    if s.kind == "declarations":
        if "item_no" not in frame.columns:
            frame["item_no"] = "1"
        frame["item_no"] = frame["item_no"].astype(nz.TEXT).fillna("").str.strip().replace({"": "1"})
    kind = model().files[s.kind]
    norm, errs = _validate(s, kind, frame)
    good = np.ones(len(norm), dtype=bool)
    good[errs["row"].to_numpy(dtype=np.int64)] = False
    # duplicate keys within one file: the first row counts, later ones are quarantined
    keys = _key_of(s.kind, norm).to_numpy(dtype=object)
    dup_rows, dup_keys, dup_first = [], [], []
    lines = chunk.lines
    for i in np.flatnonzero(good):
        k = keys[i]
        first = seen.setdefault(k, int(lines[i]))
        if first != lines[i]:
            dup_rows.append(i)
            dup_keys.append(k)
            dup_first.append(first)
    if dup_rows:
        errs = pd.concat([errs, pd.DataFrame({"row": dup_rows, "column": kind.key[0], "value": dup_keys,
                                              "reason": [f"duplicate key (first at line {f})" for f in dup_first]})],
                         ignore_index=True)
        good[dup_rows] = False
    q.add_frame(file, s.kind, errs, chunk.lines)
    rows = norm.loc[good].reset_index(drop=True)
    rows.insert(0, "key", keys[good])
    lines = chunk.lines[good]
    if len(rows):
        WRITERS[s.kind](ctx, file, rows, lines)
    return int(good.sum())


# ---- per-kind writers: node rows + relationship rows ------------------------------------

def _with_prov(ctx: _Context, file: str, df: pd.DataFrame, lines: np.ndarray) -> pd.DataFrame:
    out = df.copy()
    for k, v in ctx.prov(file, lines).items():
        out[k] = v
    return out


def _rels(ctx: _Context, file: str, lines: np.ndarray, src_label, src: pd.Series, dst_label, dst: pd.Series,
          **props: pd.Series) -> pd.DataFrame:
    df = pd.DataFrame({"src_label": src_label, "src": src.to_numpy(), "dst_label": dst_label, "dst": dst.to_numpy(),
                       **{k: v.to_numpy() for k, v in props.items()}})
    df = _with_prov(ctx, file, df, lines)
    return df[df["src"].notna() & df["dst"].notna()].reset_index(drop=True)


def _identifier_nodes(ctx: _Context, file: str, label: str, rows: pd.DataFrame, lines: np.ndarray,
                      country: pd.Series | None = None) -> None:
    """Shared identifiers (address, phone, email) as nodes of their own, and the country."""
    store = ctx.store
    keys = rows["key"]
    parts = [rows[c] for c in ("city", "postcode") if c in rows.columns]
    if country is not None:
        parts.append(country)
    idents = {
        ("Address", "LOCATED_AT"): nz.normalise_address(rows["address"], *parts) if "address" in rows else None,
        ("Phone", "HAS_PHONE"): nz.normalise_phone(rows["phone"]) if "phone" in rows else None,
        ("Email", "HAS_EMAIL"): nz.normalise_email(rows["email"]) if "email" in rows else None,
    }
    for (ilabel, rtype), values in idents.items():
        if values is None:
            continue
        r = _rels(ctx, file, lines, label, keys, ilabel, values)
        if len(r):
            nodes = _with_prov(ctx, file, pd.DataFrame({"key": r["dst"]}), r["_line"].to_numpy())
            nodes[ilabel.lower()] = nodes["key"]
            store.upsert_nodes(ilabel, nodes, on_conflict="keep")
            store.upsert_rels(rtype, r)
    if country is not None:
        r = _rels(ctx, file, lines, label, keys, "Country", country)
        if len(r):
            nodes = _with_prov(ctx, file, pd.DataFrame({"key": r["dst"], "country": r["dst"]}), r["_line"].to_numpy())
            store.upsert_nodes("Country", nodes, on_conflict="keep")
            store.upsert_rels("IN_COUNTRY", r)


def _write_rates(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    rows = rows.assign(rate_key=rows["key"])
    ctx.store.upsert_nodes("Rate", _with_prov(ctx, file, rows, lines))
    ctx._rates = None


def _write_traders(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    ctx.store.upsert_nodes("Trader", _with_prov(ctx, file, rows.assign(origin="file"), lines))
    _identifier_nodes(ctx, file, "Trader", rows, lines, country=rows["country"])


def _write_persons(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    ctx.store.upsert_nodes("Person", _with_prov(ctx, file, rows, lines))
    _identifier_nodes(ctx, file, "Person", rows, lines)


def _write_carriers(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    ctx.store.upsert_nodes("Carrier", _with_prov(ctx, file, rows.assign(origin="file"), lines))
    country = rows["country"] if "country" in rows else None
    _identifier_nodes(ctx, file, "Carrier", rows, lines, country=country)


def _label_of(ctx: _Context, ids: pd.Series, candidates: list[str]) -> pd.Series:
    """The label of each id: the first candidate label with a node of that key, else the first."""
    out = pd.Series(None, index=ids.index, dtype=object)
    for label in candidates:
        known = pd.Series(ctx.node_keys(label).get_indexer(ids.to_numpy(dtype=object)) >= 0, index=ids.index)
        out = out.where(out.notna() | ~known, label)
    return out.fillna(candidates[0])


def _write_officers(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    src_label = _label_of(ctx, rows["officer_id"], ["Person", "Trader"])
    dst_label = _label_of(ctx, rows["company_id"], ["Trader", "Carrier"])
    props = {c: rows[c] for c in ("role", "share_pct", "start_date", "end_date") if c in rows}
    extra = {c: rows[c] for c in rows.columns if c not in ("key", "officer_id", "company_id", *props)}
    r = _rels(ctx, file, lines, src_label.to_numpy(), rows["officer_id"], dst_label.to_numpy(), rows["company_id"],
              **props, **extra)
    ctx.store.upsert_rels("OFFICER_OF", r)


def _write_accounts(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    ctx.store.upsert_nodes("BankAccount", _with_prov(ctx, file, rows, lines))
    holder_label = _label_of(ctx, rows["holder_id"], ["Trader", "Person"])
    ctx.store.upsert_rels("HOLDS", _rels(ctx, file, lines, holder_label.to_numpy(), rows["holder_id"],
                                         "BankAccount", rows["key"]))


def _write_declarations(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    store = ctx.store
    usd, status = ctx.to_usd(rows["invoice_value"], rows["currency"], rows["date"], rows.get("value_usd"))
    rows = rows.assign(decl_key=rows["key"], hs6=rows["hs_code"].str.slice(0, 6), value_usd=usd, usd_status=status)
    store.upsert_nodes("Declaration", _with_prov(ctx, file, rows, lines))
    # parties known only from declarations become Traders (never overwriting a traders.csv row)
    for role in ("exporter", "importer", "declarant"):
        idc = f"{role}_id"
        if idc not in rows:
            continue
        has = rows[idc].notna()
        if not has.any():
            continue
        party = pd.DataFrame({"key": rows.loc[has, idc], "trader_id": rows.loc[has, idc],
                              "name": rows.loc[has, f"{role}_name"] if f"{role}_name" in rows else None,
                              "country": rows.loc[has, f"{role}_country"] if f"{role}_country" in rows else None,
                              "origin": "declaration"})
        party["name"] = party["name"].where(party["name"].notna(), party["key"])
        store.upsert_nodes("Trader", _with_prov(ctx, file, party, lines[has.to_numpy()]), on_conflict="keep")
    keys = rows["key"]
    if "exporter_id" in rows:
        store.upsert_rels("EXPORTED", _rels(ctx, file, lines, "Trader", rows["exporter_id"], "Declaration", keys))
    if "importer_id" in rows:
        store.upsert_rels("IMPORTED_BY", _rels(ctx, file, lines, "Declaration", keys, "Trader", rows["importer_id"]))
    if "declarant_id" in rows:
        store.upsert_rels("DECLARED_BY", _rels(ctx, file, lines, "Declaration", keys, "Trader", rows["declarant_id"]))
    if "carrier_id" in rows and rows["carrier_id"].notna().any():
        has = rows["carrier_id"].notna()
        carriers = pd.DataFrame({"key": rows.loc[has, "carrier_id"], "carrier_id": rows.loc[has, "carrier_id"],
                                 "name": rows.loc[has, "carrier_name"] if "carrier_name" in rows else None,
                                 "origin": "declaration"})
        carriers["name"] = carriers["name"].where(carriers["name"].notna(), carriers["key"])
        store.upsert_nodes("Carrier", _with_prov(ctx, file, carriers, lines[has.to_numpy()]), on_conflict="keep")
        store.upsert_rels("CARRIED_BY", _rels(ctx, file, lines, "Declaration", keys, "Carrier", rows["carrier_id"]))
    if "conveyance_id" in rows and rows["conveyance_id"].notna().any():
        r = _rels(ctx, file, lines, "Declaration", keys, "Conveyance", rows["conveyance_id"])
        store.upsert_nodes("Conveyance", _with_prov(ctx, file, pd.DataFrame(
            {"key": r["dst"], "conveyance_id": r["dst"]}), r["_line"].to_numpy()), on_conflict="keep")
        store.upsert_rels("ON_CONVEYANCE", r)
    if "container_ids" in rows and rows["container_ids"].notna().any():
        ex = pd.DataFrame({"decl": keys, "c": rows["container_ids"], "line": lines}).dropna()
        ex = ex.assign(c=ex["c"].str.split(";")).explode("c")
        ex = ex[ex["c"].astype(str).str.len() > 0]
        r = _rels(ctx, file, ex["line"].to_numpy(), "Declaration", ex["decl"], "Container", ex["c"])
        store.upsert_nodes("Container", _with_prov(ctx, file, pd.DataFrame(
            {"key": r["dst"], "container_id": r["dst"]}), r["_line"].to_numpy()), on_conflict="keep")
        store.upsert_rels("IN_CONTAINER", r)


def _write_payments(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    store = ctx.store
    usd, status = ctx.to_usd(rows["amount"], rows["currency"], rows["date"])
    rows = rows.assign(amount_usd=usd, usd_status=status)
    store.upsert_nodes("Payment", _with_prov(ctx, file, rows, lines))
    keys = rows["key"]
    store.upsert_rels("SENT", _rels(ctx, file, lines, "BankAccount", rows["from_account"], "Payment", keys))
    store.upsert_rels("RECEIVED_BY", _rels(ctx, file, lines, "Payment", keys, "BankAccount", rows["to_account"]))
    decl = ctx.declaration_refs()
    links = []
    if "declaration_id" in rows and rows["declaration_id"].notna().any():
        m = pd.DataFrame({"p": keys, "declaration_id": rows["declaration_id"], "line": lines}).dropna()
        links.append(m.merge(decl[["key", "declaration_id"]].dropna(), on="declaration_id")[["p", "key", "line"]])
    if "invoice_no" in rows and rows["invoice_no"].notna().any():
        m = pd.DataFrame({"p": keys, "invoice_no": rows["invoice_no"], "line": lines,
                          "has_decl": rows["declaration_id"].notna() if "declaration_id" in rows else False})
        m = m[m["invoice_no"].notna() & ~m["has_decl"].astype(bool)]
        links.append(m.merge(decl[["key", "invoice_no"]].dropna(), on="invoice_no")[["p", "key", "line"]])
    if links:
        lk = pd.concat(links, ignore_index=True).drop_duplicates(["p", "key"])
        if len(lk):
            store.upsert_rels("SETTLES", _rels(ctx, file, lk["line"].to_numpy(), "Payment", lk["p"], "Declaration",
                                               lk["key"]))


def _write_cash_reports(ctx: _Context, file: str, rows: pd.DataFrame, lines: np.ndarray) -> None:
    store = ctx.store
    usd, status = ctx.to_usd(rows["amount"], rows["currency"], rows["date"])
    rows = rows.assign(amount_usd=usd, usd_status=status)
    store.upsert_nodes("CashReport", _with_prov(ctx, file, rows, lines))
    keys = rows["key"]
    if "person_id" in rows and rows["person_id"].notna().any():
        has = rows["person_id"].notna()
        persons = pd.DataFrame({"key": rows.loc[has, "person_id"], "person_id": rows.loc[has, "person_id"],
                                "name": rows.loc[has, "person_name"] if "person_name" in rows else None})
        persons["name"] = persons["name"].where(persons["name"].notna(), persons["key"])
        store.upsert_nodes("Person", _with_prov(ctx, file, persons, lines[has.to_numpy()]), on_conflict="keep")
        store.upsert_rels("FILED_BY", _rels(ctx, file, lines, "CashReport", keys, "Person", rows["person_id"]))
    if "trader_id" in rows:
        store.upsert_rels("FOR", _rels(ctx, file, lines, "CashReport", keys, "Trader", rows["trader_id"]))
    if "account_id" in rows:
        store.upsert_rels("INVOLVES", _rels(ctx, file, lines, "CashReport", keys, "BankAccount", rows["account_id"]))


WRITERS: dict[str, Callable[[_Context, str, pd.DataFrame, np.ndarray], None]] = {
    "rates": _write_rates, "traders": _write_traders, "persons": _write_persons, "carriers": _write_carriers,
    "officers": _write_officers, "accounts": _write_accounts, "declarations": _write_declarations,
    "payments": _write_payments, "cash_reports": _write_cash_reports,
}
