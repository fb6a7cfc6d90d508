"""The workbench's audit writer: every request's audit entry, written by one background thread.

Reads (searches, views, lists) must never wait for the log: the Neo4j case book costs about
10 ms a transaction. So every entry goes into one queue, and one thread writes what has
gathered through :func:`graphiff.casework.audit.record_many`, many entries per transaction:
after the first entry of a batch it lingers (``linger``, a second) for more, unless a
request waits for its entry, which is written at once with whatever has gathered. (Each
transaction also costs the database CPU: on Neo4j one a second instead of one a request keeps
the audit of a busy workbench within a few percent of its latency.) Entries of reads are thus
written within a second; a server killed outright loses at most that second of them.
Requests that change something, export or package data, sign in or out wait until their own
entry is written (:meth:`AuditWriter.write` with ``wait=True``) and fail with
:class:`AuditFailed` (a 500 naming the reason) when it cannot be: nothing leaves the server,
and no change is confirmed, without its entry. A read whose entry cannot be written is still
answered; the failure is logged (the ``graphiff.workbench`` logger: how many entries, which
actions, the reason -- never what they hold).

Entries keep the order they were queued in, so the chain follows the requests. :meth:`close`
writes what is queued before it returns (``app.state.close()``; ``graphiff serve`` on exit).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Mapping

from graphiff.casework.audit import record_many
from graphiff.errors import GraphiffError, StoreError
from graphiff.stores.book import Book

__all__ = ["AuditFailed", "AuditWriter", "LINGER", "MAX_BATCH"]

log = logging.getLogger("graphiff.workbench")

#: The most entries written in one transaction.
MAX_BATCH = 1000
#: How long the writer waits for more entries after the first of a batch, when nobody waits (seconds).
LINGER = 1.0

_Item = tuple[dict[str, Any] | None, "Future[None] | None"]


class AuditFailed(StoreError):
    """An audit entry that a request waits for could not be written (the workbench answers 500)."""


class AuditWriter:
    """One thread appending audit entries to the case book's chain in batches.

    Parameters
    ----------
    book : Book
        The store's case book (thread-safe; the writer shares it with the request threads).
    max_batch : int
        The most entries per transaction.
    linger : float
        Seconds to gather more entries after the first of a batch when no request waits.

    ``written`` and ``failed`` count the entries written and lost since start.
    """

    def __init__(self, book: Book, *, max_batch: int = MAX_BATCH, linger: float = LINGER):
        self.book = book
        self.max_batch = int(max_batch)
        self.linger = float(linger)
        self.written = 0
        self.failed = 0
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="graphiff-audit", daemon=True)
        self._thread.start()

    # ---- the requests' side -----------------------------------------------------------------
    def write(self, entry: Mapping[str, Any], *, wait: bool = False, timeout: float = 60.0) -> None:
        """Queue one entry (from :func:`graphiff.casework.audit.entry`).

        With ``wait`` return only once it is written, else raise :class:`AuditFailed`; without,
        return at once (cost: a queue put). Raises :class:`AuditFailed` when the writer is
        closed and ``wait`` is asked (a read's entry is then only logged as lost).
        """
        if self._closed:
            if wait:
                raise AuditFailed("the audit log is closed (the server is stopping): nothing was done")
            self.failed += 1
            log.warning("audit entry (%s) lost: the audit writer is closed", entry.get("action"))
            return
        done: Future[None] | None = Future() if wait else None
        self._queue.put((dict(entry), done))
        if done is None:
            return
        try:
            done.result(timeout=timeout)
        except FutureTimeout:
            raise AuditFailed(f"the audit log could not be written within {timeout:g} s, so this request is "
                              "refused (is the case book reachable?)") from None
        except GraphiffError as exc:
            raise AuditFailed(f"the audit log could not be written, so this request is refused: {exc}") from None

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every entry queued before this call is written (or has failed)."""
        if self._closed:
            return
        done: Future[None] = Future()
        self._queue.put((None, done))
        try:
            done.result(timeout=timeout)
        except FutureTimeout:  # pragma: no cover - a case book that hangs
            log.warning("the audit log was not flushed within %g s", timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Write what is queued, then stop the thread (later entries are refused). Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self.flush(timeout)
            self._closed = True
            self._queue.put((None, None))
        self._thread.join(timeout)

    # ---- the thread ---------------------------------------------------------------------------
    def _gather(self) -> list[_Item]:
        """The next batch: the first item, then more until ``linger`` has passed, the batch is
        full, or an item somebody waits for (an entry, a flush, the stop) came -- then only
        what is already queued."""
        first = self._queue.get()
        items = [first]
        urgent = first[1] is not None or first[0] is None
        deadline = time.monotonic() + self.linger
        while len(items) < self.max_batch:
            left = 0.0 if urgent else deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            urgent = urgent or item[1] is not None or item[0] is None
        return items

    def _run(self) -> None:
        while True:
            items = self._gather()
            stop = any(e is None and f is None for e, f in items)
            self._write([(e, f) for e, f in items if e is not None])
            for e, f in items:
                if e is None and f is not None:
                    f.set_result(None)      # a flush marker: everything before it is handled
            if stop:
                return

    def _write(self, items: list[_Item]) -> None:
        if not items:
            return
        entries = [e for e, _ in items if e is not None]
        try:
            record_many(self.book, entries)
        except Exception as exc:  # noqa: BLE001 - the thread must live on; waiters get the error
            self.failed += len(entries)
            actions = sorted({str(e.get("action")) for e in entries})
            log.error("%d audit entries (%s) could not be written: %s", len(entries), ", ".join(actions),
                      exc if isinstance(exc, GraphiffError) else type(exc).__name__)
            err = exc if isinstance(exc, GraphiffError) else StoreError(f"{type(exc).__name__} writing the audit log")
            for _, f in items:
                if f is not None:
                    f.set_exception(err)
            return
        self.written += len(entries)
        for _, f in items:
            if f is not None:
                f.set_result(None)
