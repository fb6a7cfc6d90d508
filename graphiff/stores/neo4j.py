"""The Neo4j store: a Neo4j 5.26+ server through the official ``neo4j`` driver.

The same semantics as the embedded store (:mod:`graphiff.stores.embedded`), so detectors,
explorers and exports see the same tables on either store:

* a node is ``(:Label {key, ...properties})``, unique on ``key`` (a uniqueness constraint per
  label of the model, created on open); a relationship is ``(a)-[:TYPE {rid, ...}]->(b)``,
  unique on ``rid`` = its ends plus the identity properties the model names for the type;
* writes are batched ``UNWIND $rows ... MERGE`` statements, thousands of rows per managed
  transaction (``session.execute_write``), so transient errors (a deadlock, a leader switch, a
  server restarting within the retry window) are retried;
* ``update`` overwrites properties with the new non-null values (null never erases), ``keep``
  only creates missing nodes; missing relationship ends are created bare;
* each label / type remembers its columns and their types (``:_Columns`` nodes), and values are
  cast to them as the embedded store's typed columns do, so ``nodes()``/``rels()`` give the same
  columns and dtypes on both stores;
* loads are ``:_Load`` nodes; labels starting with ``_`` are bookkeeping, never counted;
* a unit of work (:meth:`Store.atomic`, every load) stages its batches invisibly, then
  publishes or drops them (:mod:`graphiff.stores.neo4j_stage`); one killed while publishing is
  completed when the store is next opened.

Every statement comes from ``cypher/*.cypher`` through :func:`graphiff.stores.cypher.cypher`:
labels and types only from the model, values always parameters. Credentials come from
``NEO4J_USERNAME`` / ``NEO4J_PASSWORD`` (no authentication when neither is set) and never
appear in a message.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import re
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Literal, Sequence

import pandas as pd

from graphiff.errors import GraphiffError, StoreError
from graphiff.model import model
from graphiff.model.identity import REL_ENDS, rel_ids
from graphiff.stores.base import Store, load_order, stamped
from graphiff.stores.book import Book
from graphiff.stores.columns import sql_type, to_arrow
from graphiff.stores.cypher import cypher, statements
from graphiff.stores.neo4j_columns import register_columns, stored_columns
from graphiff.stores.neo4j_stage import Unit, apply, fold_nodes, recover

# the embedded store's column typing, so both stores type every column the same way
from graphiff.stores.neo4j_values import arrow_column, column_values, key_order, props_of

# The driver logs each retried transaction (a deadlock between parallel batches, a server
# restarting) as a warning; retries are expected and handled, so they are not printed unless
# the application configures logging itself.
if not logging.getLogger("neo4j").handlers:
    logging.getLogger("neo4j").addHandler(logging.NullHandler())

#: rows per transaction for node / relationship upserts
NODE_BATCH = 2_000
REL_BATCH = 2_000
#: parallel write transactions for node upserts / relationship upserts (relationship rows are
#: split by their hub end, e.g. the trader of many declarations, so parallel transactions do
#: not wait for each other's locks; a rare deadlock is retried)
WORKERS = 2
REL_WORKERS = 2
#: rows per page when reading tables back
PAGE = 20_000
#: how long a managed transaction is retried on transient errors, e.g. while the server
#: restarts (seconds; $GRAPHIFF_NEO4J_RETRY_SECONDS overrides)
RETRY_SECONDS = 120.0


def _retry_seconds() -> float:
    try:
        return float(os.environ.get("GRAPHIFF_NEO4J_RETRY_SECONDS") or RETRY_SECONDS)
    except ValueError:
        return RETRY_SECONDS


def _safe_uri(uri: str) -> str:
    """The URI without any user:password@ part."""
    return re.sub(r"^([a-z0-9+]+://)[^@/]*@", r"\1", str(uri))


class Neo4jStore(Store):
    """A graph in a Neo4j database.

    Parameters
    ----------
    uri : str
        ``bolt://host:7687``, ``neo4j://host:7687`` or their ``+s``/``+ssc`` variants.
    database : str, optional
        Database name (default: the server's home database).
    batch_size : int, optional
        Rows per write transaction (default 2,000).
    workers, rel_workers : int, optional
        Write transactions in flight at once for node / relationship upserts (default 2 / 2).
    schema_workers : int, optional
        Constraints created at once when the store opens (default 1; a bulk-imported database
        builds each constraint's index over its data, and several build side by side).

    Raises
    ------
    StoreError
        The server cannot be reached, refuses the credentials or has no such database.
    """

    def __init__(self, uri: str, database: str | None = None, *, batch_size: int | None = None,
                 workers: int | None = None, rel_workers: int | None = None, schema_workers: int = 1):
        try:
            import neo4j
        except ImportError:  # pragma: no cover - neo4j is a dependency
            raise StoreError("the Neo4j store needs the 'neo4j' Python package (pip install neo4j)") from None
        self._neo4j = neo4j
        self.uri = _safe_uri(uri)
        self.database = database or None
        self.node_batch = batch_size or NODE_BATCH
        self.rel_batch = batch_size or REL_BATCH
        self.workers = WORKERS if workers is None else max(1, int(workers))
        self.rel_workers = REL_WORKERS if rel_workers is None else max(1, int(rel_workers))
        self.page_size = PAGE
        self._secrets = [s for s in (os.environ.get("NEO4J_PASSWORD"),) if s]
        user, password = os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD")
        auth = (user or "neo4j", password or "") if (user or password) else None
        where = self.uri + (f" (database {self.database})" if self.database else "")
        self.driver = None
        self._stage: Unit | None = None
        try:
            self.driver = neo4j.GraphDatabase.driver(uri, auth=auth, max_transaction_retry_time=_retry_seconds(),
                                                     connection_timeout=20.0,
                                                     notifications_min_severity="OFF")
            self.driver.verify_connectivity()
            self._setup_schema(schema_workers)
            recover(self._write, self._read)  # loads killed while publishing are completed
        except StoreError:
            self.close()
            raise
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, ValueError, OSError) as exc:
            self.close()
            raise StoreError(f"cannot open the Neo4j store at {where}: {self._reason(exc)}") from None

    # ---- plumbing ---------------------------------------------------------------------
    def _reason(self, exc: BaseException) -> str:
        """A one-line reason with no credentials in it."""
        neo4j = self._neo4j
        if isinstance(exc, neo4j.exceptions.AuthError):
            text = "authentication failed (check NEO4J_USERNAME / NEO4J_PASSWORD)"
        elif isinstance(exc, neo4j.exceptions.ServiceUnavailable):
            text = "server unavailable (is Neo4j running and is the URI right?)"
        else:
            msg = getattr(exc, "message", None) or str(exc)
            text = f"{type(exc).__name__}: {msg}".splitlines()[0] if msg else type(exc).__name__
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _session(self, **config: Any):
        assert self.driver is not None, "the store is closed"
        return self.driver.session(database=self.database, **config)

    def _write(self, work: Callable[[Any], Any], what: str) -> Any:
        """Run ``work(tx)`` in one managed write transaction (retried on transient errors)."""
        try:
            with self._session() as session:
                return session.execute_write(work)
        except (self._neo4j.exceptions.Neo4jError, self._neo4j.exceptions.DriverError) as exc:
            raise StoreError(f"Neo4j store {self.uri}: {what} failed: {self._reason(exc)}") from None

    def _read(self, work: Callable[[Any], Any], what: str) -> Any:
        try:
            with self._session(fetch_size=20_000) as session:
                return session.execute_read(work)
        except (self._neo4j.exceptions.Neo4jError, self._neo4j.exceptions.DriverError) as exc:
            raise StoreError(f"Neo4j store {self.uri}: {what} failed: {self._reason(exc)}") from None

    def _auto(self, query: str, what: str, **params: Any) -> None:
        """An auto-commit statement (schema changes, CALL ... IN TRANSACTIONS)."""
        try:
            with self._session() as session:
                session.run(query, params).consume()
        except (self._neo4j.exceptions.Neo4jError, self._neo4j.exceptions.DriverError) as exc:
            raise StoreError(f"Neo4j store {self.uri}: {what} failed: {self._reason(exc)}") from None

    def _setup_schema(self, workers: int = 1) -> None:
        """Uniqueness constraints for every label (key) and relationship type (rid), once;
        ``workers`` statements at a time."""
        with self._session() as session:
            have = {r["name"] for r in session.run(cypher("show_constraints"))}
        m = model()
        todo = [*statements("schema"), *statements("schema_units"),
                *(cypher("schema_node_key", label=label) for label in m.nodes),
                *(cypher("schema_rel_rid", type=t) for t in m.relationships)]
        missing = []
        for q in todo:
            name = re.search(r"CREATE\s+CONSTRAINT\s+(\w+)", q)
            if not (name and name.group(1) in have):
                missing.append(q)
        if workers <= 1:
            for q in missing:
                self._auto(q, "schema setup")
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphiff-neo4j") as pool:
            for f in [pool.submit(self._auto, q, "schema setup") for q in missing]:
                f.result()

    # ---- columns and types (the same as the embedded store's typed tables) -------------
    def _columns_of(self, cid: str) -> tuple[list[str], list[str]] | None:
        """The columns and types of ``cid`` ("node:Trader"), with those the open unit adds."""
        return stored_columns(self._read, cid, self._stage.columns.get(cid) if self._stage is not None else None)

    def _register(self, cid: str, first: dict[str, str], incoming: dict[str, str]) -> dict[str, str]:
        """Column name -> type of ``cid`` after adding the ``incoming`` columns; inside a unit
        they are kept in the unit and registered when it commits (a rollback leaves none)."""
        wanted = {**first, **incoming}
        have = self._columns_of(cid)
        if have is not None and all(c in have[0] for c in wanted):
            return dict(zip(*have))
        if self._stage is None:
            return register_columns(self._write, cid, wanted)
        extra = self._stage.columns.setdefault(cid, {})
        for c, t in wanted.items():
            if (have is None or c not in have[0]) and c not in extra:
                extra[c] = t
        have = self._columns_of(cid)
        assert have is not None
        return dict(zip(*have))

    # ---- primitives -------------------------------------------------------------------
    def upsert_nodes(self, label: str, rows: pd.DataFrame, *, on_conflict: Literal["update", "keep"] = "update") -> int:
        model().node(label)
        if on_conflict not in ("update", "keep"):
            raise GraphiffError(f"on_conflict must be 'update' or 'keep', not {on_conflict!r}")
        if rows.empty:
            return 0
        # a repeated key: the last row wins an update, the first a keep (as a sequence of MERGEs)
        repeated = rows["key"].duplicated(keep="first" if on_conflict == "keep" else "last").to_numpy()
        frame = rows[~repeated] if repeated.any() else rows
        incoming = {c: sql_type(frame[c]) for c in frame.columns}
        types = self._register(f"node:{label}", {"key": "VARCHAR"}, incoming)
        table = to_arrow(frame, incoming)
        keys = column_values(table, "key", incoming["key"], "VARCHAR")
        props = [c for c in frame.columns if c != "key"]
        lists = [column_values(table, c, incoming[c], types[c]) for c in props]
        query = cypher("merge_nodes_keep" if on_conflict == "keep" else "merge_nodes", label=label)

        def batches() -> Iterator[dict[str, Any]]:
            for start in range(0, len(keys), self.node_batch):
                stop = start + self.node_batch
                cols = [v[start:stop] for v in lists]
                yield {"rows": [{"key": k, "props": props_of(props, vals)}
                                for k, vals in zip(keys[start:stop], zip(*cols) if cols else itertools.repeat(()))]}

        if self._stage is not None:
            self._stage.stage("merge_nodes_keep" if on_conflict == "keep" else "merge_nodes", {"label": label},
                              batches(), self._send, f"staging {label} nodes", self.workers)
        else:
            self._send(query, batches(), f"writing {label} nodes", self.workers)
        return len(frame)

    def upsert_rels(self, rel_type: str, rows: pd.DataFrame) -> int:
        rt = model().rel(rel_type)
        if rows.empty:
            return 0
        rows = rows.assign(**{c: rows[c].astype(str) for c in REL_ENDS})
        for label in set(rows["src_label"]) | set(rows["dst_label"]):
            model().node(label)
        # identity: the ends, the type and the schema's identity properties
        rows.insert(0, "rid", rel_ids(rel_type, rows, rt.identity))
        repeated = rows["rid"].duplicated(keep="last").to_numpy()
        frame = rows[~repeated] if repeated.any() else rows
        # end nodes first (missing ones bare, as in the embedded store), so the relationship
        # batches only MATCH them: no two batches race to create the same node
        ends = pd.concat([frame[["src_label", "src"]].set_axis(["label", "key"], axis=1),
                          frame[["dst_label", "dst"]].set_axis(["label", "key"], axis=1)]).drop_duplicates()
        for label, keys in ends.groupby("label", sort=True)["key"]:
            self._register(f"node:{label}", {"key": "VARCHAR"}, {})
            q = cypher("merge_keys", label=str(label))
            keys = keys.tolist()
            key_batches = ({"keys": keys[i:i + self.node_batch]} for i in range(0, len(keys), self.node_batch))
            if self._stage is not None:
                self._stage.stage("merge_keys", {"label": str(label)}, key_batches, self._send,
                                  f"staging {label} nodes", self.workers)
            else:
                self._send(q, key_batches, f"writing {label} nodes", self.workers)
        props = [c for c in frame.columns if c not in ("rid", *REL_ENDS)]
        incoming = {c: sql_type(frame[c]) for c in props}
        types = self._register(f"rel:{rel_type}", {}, incoming)
        table = to_arrow(frame[props], incoming) if props else None
        lists = [column_values(table, c, incoming[c], types[c]) for c in props]
        rid, src, dst = frame["rid"].tolist(), frame["src"].tolist(), frame["dst"].tolist()
        for (sl, dl), idx in frame.groupby([frame["src_label"], frame["dst_label"]], sort=True).indices.items():
            query = cypher("merge_rels", src=sl, dst=dl, type=rel_type)

            def batches(idx: list[int]) -> Iterator[dict[str, Any]]:
                for start in range(0, len(idx), self.rel_batch):
                    part = idx[start:start + self.rel_batch]
                    yield {"rows": [{"src": src[i], "dst": dst[i], "rid": rid[i],
                                     "props": props_of(props, [v[i] for v in lists])} for i in part]}

            what = f"writing {rel_type} relationships"
            if self._stage is not None:
                self._stage.stage("merge_rels", {"src": sl, "dst": dl, "type": rel_type}, batches(idx.tolist()),
                                  self._send, f"staging {rel_type} relationships", self.workers)
                continue
            if self.rel_workers <= 1 or len(idx) <= self.rel_batch:
                self._send(query, batches(idx.tolist()), what, 1)
                continue
            # parallel: one bucket per worker by the end whose keys repeat most (the hub, e.g.
            # the trader of many declarations), so concurrent transactions never lock the same
            # hub node; a rare clash on the other end is a deadlock the driver retries
            hub = src if frame["src"].iloc[idx].nunique() <= frame["dst"].iloc[idx].nunique() else dst
            buckets: list[list[int]] = [[] for _ in range(self.rel_workers)]
            for i in idx.tolist():
                buckets[hash(hub[i]) % self.rel_workers].append(i)
            self._parallel([partial(self._send, query, batches(b), what, 1) for b in buckets if b])
        return len(frame)

    def _send(self, query: str, batches: Iterable[dict[str, Any]], what: str, workers: int) -> None:
        """Run ``query`` once per batch of parameters, each in its own managed transaction;
        ``workers`` > 1 overlaps preparing the next batches with the server writing the
        current ones (only for batches that touch disjoint nodes)."""
        if workers <= 1:
            for params in batches:
                self._write(_run_and_consume(query, params), what)
            return
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphiff-neo4j") as pool:
            pending: set = set()
            try:
                for params in batches:
                    pending.add(pool.submit(self._write, _run_and_consume(query, params), what))
                    while len(pending) >= workers * 2:  # keep the pipeline full, memory bounded
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for f in done:
                            f.result()
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in done:
                        f.result()
            finally:
                for f in pending:
                    f.cancel()

    @staticmethod
    def _parallel(jobs: list[Callable[[], Any]]) -> None:
        """Run the jobs in threads of their own; the first error is raised."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="graphiff-neo4j") as pool:
            for f in [pool.submit(j) for j in jobs]:
                f.result()

    def _pages(self, query: str, what: str, **params: Any) -> list[dict[str, list]]:
        """Every page of a keyset-paginated read (nodes.cypher, rels.cypher), in one read
        transaction (a consistent snapshot). Each page repeats the previous page's last row
        first; it is dropped here."""
        first = "rids" if "rids" in query else "keys"

        def work(tx):
            pages, after = [], ""
            while True:
                rec = tx.run(query, after=after, page=self.page_size + (1 if pages else 0), **params).single()
                page = {k: list(rec[k]) for k in rec.keys()}
                if pages:
                    if page[first] and page[first][0] == after:
                        page = {k: v[1:] for k, v in page.items()}
                if not page[first]:
                    return pages
                pages.append(page)
                after = page[first][-1]
                if len(page[first]) < self.page_size:
                    return pages

        return self._read(work, what)

    def nodes(self, label: str, columns: list[str] | None = None) -> pd.DataFrame:
        model().node(label)
        known = self._columns_of(f"node:{label}")
        if known is None:
            return pd.DataFrame(columns=["key", *(columns or [])])
        types = dict(zip(*known))
        want = [c for c in known[0] if c != "key"] if columns is None else [c for c in columns if c != "key"]
        if want:
            pages = self._pages(cypher("nodes", label=label), f"reading {label} nodes", cols=want)
        else:
            pages = self._pages(cypher("node_keys", label=label), f"reading {label} nodes")
        keys = [k for p in pages for k in p["keys"]]
        vals = [v for p in pages for v in p.get("vals", ())]
        if self._stage is not None and label in self._stage.labels:  # the unit sees its own writes
            table = {k: dict(zip(want, v)) if v else {} for k, v in itertools.zip_longest(keys, vals)}
            fold_nodes(table, self._stage.staged_rows(label), want)
            keys = list(table)
            vals = [[table[k].get(c) for c in want] for k in keys] if want else []
        order = key_order(keys)
        if order is not None:
            keys = [keys[i] for i in order]
            vals = [vals[i] for i in order] if vals else vals
        data = {"key": arrow_column(keys, "VARCHAR")}
        cols: list[Sequence[Any]] = list(zip(*vals)) if vals else [[] for _ in want]
        for j, c in enumerate(want):
            data[c] = arrow_column(list(cols[j]), types.get(c, "NULL"))
        return pd.DataFrame(data)

    def rels(self, rel_type: str) -> pd.DataFrame:
        model().rel(rel_type)
        known = self._columns_of(f"rel:{rel_type}")
        if known is None:
            return pd.DataFrame(columns=list(REL_ENDS))
        names, tlist = known
        pages = self._pages(cypher("rels", type=rel_type), f"reading {rel_type} relationships", cols=names)
        rids = [r for p in pages for r in p["rids"]]
        ends = [e for p in pages for e in p["ends"]]
        vals = [v for p in pages for v in p["vals"]]
        order = key_order(rids)
        if order is not None:
            ends, vals = [ends[i] for i in order], [vals[i] for i in order]
        end_cols: list[Sequence[Any]] = list(zip(*ends)) if ends else [[] for _ in REL_ENDS]
        data = {c: arrow_column(list(end_cols[i]), "VARCHAR") for i, c in enumerate(REL_ENDS)}
        cols: list[Sequence[Any]] = list(zip(*vals)) if vals else [[] for _ in names]
        for j, (c, t) in enumerate(zip(names, tlist)):
            data[c] = arrow_column(list(cols[j]), t)
        return pd.DataFrame(data)

    def delete_nodes(self, label: str, keys: list[str] | None = None) -> int:
        model().node(label)
        self._no_unit("deleting nodes")
        return self._delete(cypher("delete_label_batch", label=label), cypher("delete_nodes", label=label),
                            "keys", keys, self.node_batch, f"deleting {label} nodes")

    def delete_rels(self, rel_type: str, rids: list[str] | None = None) -> int:
        model().rel(rel_type)
        self._no_unit("deleting relationships")
        return self._delete(cypher("delete_type_batch", type=rel_type), cypher("delete_rels", type=rel_type),
                            "rids", rids, self.rel_batch, f"deleting {rel_type} relationships")

    def _delete(self, all_query: str, some_query: str, param: str, ids: list[str] | None, batch: int,
                what: str) -> int:
        """Delete everything ``all_query`` matches (``ids`` None: batch after batch until none is
        left) or the ``ids`` given to ``some_query`` as ``$param``, in batches; the count deleted."""
        total = 0
        if ids is None:
            while True:
                n = int(self._write(lambda tx: tx.run(all_query, batch=batch).single()["n"], what))
                total += n
                if not n:
                    return total
        uniq = list(dict.fromkeys(str(k) for k in ids))
        for start in range(0, len(uniq), batch):
            part = uniq[start:start + batch]
            total += int(self._write(lambda tx: tx.run(some_query, **{param: part}).single()["n"], what))
        return total

    # ---- full-text search (graphiff.search) ---------------------------------------------
    _fulltext_ready = False

    def ensure_fulltext(self) -> None:
        """Create the full-text index of graphiff search when missing and wait until it is
        online (``cypher/search_index.cypher``; idempotent, once per open store)."""
        if not self._fulltext_ready:
            for q in statements("search_index"):
                self._auto(q, "creating the full-text search index")
            self._fulltext_ready = True

    def fulltext(self, query: str, labels: Sequence[str], limit: int) -> pd.DataFrame:
        """Nodes of ``labels`` the full-text index finds for a Lucene ``query``, best first.

        Parameters
        ----------
        query : str
            Lucene query syntax, already escaped by the caller (:mod:`graphiff.search.neo4j`);
            sent as a parameter.
        labels : list of str
            Labels of the model; nodes of other labels are skipped.
        limit : int
            Rows at most.

        Returns
        -------
        DataFrame
            ``label``, ``key``, ``score`` (Lucene's score; comparable within one answer only).
        """
        for label in labels:
            model().node(label)
        self.ensure_fulltext()
        q = cypher("search_query")
        rows = self._read(lambda tx: [(r["label"], r["key"], r["score"]) for r in
                                      tx.run(q, {"query": query, "labels": list(labels), "limit": int(limit)})],
                          "full-text search")
        return pd.DataFrame(rows, columns=["label", "key", "score"])

    def counts(self) -> dict[str, dict[str, int]]:
        m = model()
        node_q = [(label, cypher("count_nodes", label=label)) for label in m.nodes]
        rel_q = [(t, cypher("count_rels", type=t)) for t in m.relationships]

        def work(tx):
            nodes = {label: tx.run(q).single()["n"] for label, q in node_q}
            rels = {t: tx.run(q).single()["n"] for t, q in rel_q}
            return nodes, rels

        nodes, rels = self._read(work, "counting")
        return {"nodes": {k: int(v) for k, v in sorted(nodes.items()) if v},
                "relationships": {k: int(v) for k, v in sorted(rels.items()) if v}}

    def record_load(self, info: dict[str, Any]) -> None:
        if self._stage is not None:  # written last when the unit is published
            self._stage.info = stamped(info)
            return
        text = json.dumps(stamped(info), sort_keys=True, default=str)
        q = cypher("record_load")
        self._write(lambda tx: tx.run(q, load_id=str(info["load_id"]), info=text).consume(), "recording the load")

    def loads(self) -> list[dict[str, Any]]:
        q = cypher("loads")
        infos = self._read(lambda tx: [r["info"] for r in tx.run(q)], "reading the loads")
        out = [json.loads(i) for i in infos if i]
        return sorted(out, key=load_order)

    def wipe(self) -> None:
        self._no_unit("wiping the store")
        self._auto(cypher("wipe_rels"), "wiping relationships")
        self._auto(cypher("wipe_nodes"), "wiping nodes")

    # ---- the unit of work (Store.atomic; graphiff.stores.neo4j_stage) -----------------------
    def _no_unit(self, what: str) -> None:
        if self._stage is not None:
            raise StoreError(f"Neo4j store {self.uri}: {what} is not possible inside a unit of work "
                             f"(load {self._stage.load_id})")

    def _begin_unit(self, load_id: str) -> None:
        unit = Unit(self._write, self._read, load_id)
        unit.begin()
        self._stage = unit

    def _commit_unit(self, load_id: str) -> None:
        unit, self._stage = self._stage, None
        if unit is None:
            return
        try:
            for cid, cols in unit.columns.items():  # the unit's new columns, before its values
                register_columns(self._write, cid, cols)
            unit.commit()
        except BaseException:
            unit.rollback_quietly()
            raise
        try:
            apply(self._write, unit.unit)
        except StoreError as exc:
            raise StoreError(f"load {load_id} is committed but publishing it was interrupted ({exc}); the "
                             "rest is published the next time the store is opened") from None

    def _rollback_unit(self, load_id: str) -> None:
        unit, self._stage = self._stage, None
        if unit is not None:
            unit.rollback_quietly()

    def book(self) -> Book:
        """The case book in this database (:mod:`graphiff.stores.book_neo4j`)."""
        book = self._book
        if book is None:
            from graphiff.stores.book_neo4j import Neo4jBook
            self._book = book = Neo4jBook(self)
        return book

    def close(self) -> None:
        self._book = None
        if self.driver is not None:
            try:
                self.driver.close()
            except Exception:  # noqa: BLE001 - closing never fails loudly
                pass
            self.driver = None


def _run_and_consume(query: str, params: dict[str, Any]) -> Callable[[Any], Any]:
    """A transaction function that runs ``query`` with ``params`` and consumes the result."""
    return lambda tx: tx.run(query, params).consume()
