"""An alert's evidence in words: what an analyst reads instead of the evidence JSON.

:func:`evidence_records` finds the records (declarations, payments, cash reports) an alert's
evidence names that the graph holds; :func:`evidence_text` writes the alert as lines of plain
text -- its explanation, what the pattern found (the cycle of a circular trade or payment, the
identifiers linking carriers), then one line per evidence record with its date, parties (names
and countries, account holders), HS code and value. The workbench (``GET /api/alerts/{id}``)
and the command line share them.

>>> money(120000.4)
'USD 120,000'
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from graphiff.alerts import Alert
from graphiff.graph.index import RECORD_LABELS, GraphIndex, caption_of, graph_index, node_props
from graphiff.graph.tables import Tables
from graphiff.model.identity import node_id

__all__ = ["evidence_parties", "evidence_records", "evidence_text", "find_many", "money"]

#: Party labels a record's reference columns may name, per column.
_PARTY_COLUMNS = {
    "exporter_id": ("Trader",), "importer_id": ("Trader",), "declarant_id": ("Trader", "Person"),
    "holder_id": ("Trader", "Person"), "person_id": ("Person",), "trader_id": ("Trader",),
    "from_account": ("BankAccount",), "to_account": ("BankAccount",), "account_id": ("BankAccount",),
}


def money(value: Any, currency: str = "USD") -> str:
    """An amount as an analyst writes it: ``USD 120,000`` (whole units; cents below 1,000).

    >>> money(950.5), money(None), money(12.0, "EUR")
    ('USD 950.50', 'USD ?', 'EUR 12')
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        return f"{currency} ?"
    if v != v:
        return f"{currency} ?"
    if abs(v) < 1000 and v != int(v):
        return f"{currency} {v:,.2f}"
    return f"{currency} {v:,.0f}"


def _strings(value: Any) -> Iterable[str]:
    """Every string inside a JSON value (lists, objects, nested)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def find_many(idx: GraphIndex, label: str, keys: list[str]) -> np.ndarray:
    """Node numbers of ``keys`` under ``label`` (-1 where there is none; a record joined by
    entity resolution finds its entity), in one hashed look-up: O(len(keys)) once the label's
    key index is hashed, where :meth:`GraphIndex.find` scans the label's keys per call."""
    index = idx.keys.get(label)
    if index is None or not len(index) or not keys:
        return np.full(len(keys), -1, dtype=np.int64)
    alias = idx.alias.get(label, {})
    wanted = [alias.get(k, k) for k in keys] if alias else list(keys)
    if index.is_unique:
        pos = index.get_indexer(wanted)
    else:      # pragma: no cover - keys are unique per label in a store
        return np.asarray([idx.find(label, k) for k in keys], dtype=np.int64)
    off = int(idx.label_offset[idx.labels.index(label)])
    return np.where(pos >= 0, pos + off, -1).astype(np.int64)


def _record_numbers(idx: GraphIndex, alert: Alert) -> list[int]:
    """Node numbers of the records the alert names (its entities first, then its evidence),
    each once, in order of first mention."""
    named = [(str(e.get("label")), str(e.get("id"))) for e in alert.entities if e.get("label") in RECORD_LABELS]
    named += [(label, s) for s in dict.fromkeys(_strings(alert.evidence)) for label in RECORD_LABELS]
    found: dict[tuple[str, str], int] = {}
    for label in RECORD_LABELS:
        keys = list(dict.fromkeys(k for lab, k in named if lab == label))
        for k, i in zip(keys, find_many(idx, label, keys).tolist()):
            if i >= 0:
                found[(label, k)] = i
    out: dict[int, None] = {}
    for ref in named:
        if ref in found:
            out.setdefault(found[ref])
    return list(out)


def evidence_records(tables: Tables, alert: Alert) -> list[str]:
    """Node ids (``Label:key``) of the declarations, payments and cash reports the alert names
    (as entities or anywhere in its evidence) that the graph holds, in order of first mention.

    Cost: the adjacency index of ``tables`` (built once), then one key look-up per string of the
    evidence.
    """
    idx = graph_index(tables)
    return [idx.node_id(i) for i in _record_numbers(idx, alert)]


#: Labels of the entities an alert's evidence may name by their key (the parties of its records,
#: the holders of its accounts, the officer or phone linking carriers).
_NAMED_LABELS = ("Trader", "Person", "BankAccount", "Carrier", "Phone", "Email")


def evidence_parties(tables: Tables, alert: Alert) -> list[str]:
    """Node ids of the entities an alert's evidence stands on besides its records: the parties
    of its records (exporter, importer, paying and receiving accounts, the person and trader of
    a cash report), the holders of those accounts, and the entities its evidence names by key
    (the importer a third party paid for, the officer and phone two carriers share, the traders
    they serve). The alert's subgraph shows them, so that what the explanation says can be
    seen: a third-party payment with the payer's holder and the importer, a shell's suppliers
    and buyers, the officer joining linked carriers.

    Cost: that of :func:`evidence_records`, plus one key look-up per string of the evidence
    and label of ``_NAMED_LABELS``.
    """
    idx = graph_index(tables)
    nums = _record_numbers(idx, alert)
    names = _Names(tables, idx, node_props(tables, idx, nums))
    found: dict[int, None] = dict.fromkeys(names.at.values())
    found.update(dict.fromkeys(names.holder.values()))
    strings = list(dict.fromkeys(_strings(alert.evidence)))
    for label in _NAMED_LABELS:
        keys = [s.split(":", 1)[1] if s.startswith(label + ":") else s for s in strings]
        for i in find_many(idx, label, keys).tolist():
            if i >= 0:
                found.setdefault(i)
    return [idx.node_id(i) for i in found]


class _Names:
    """Names and countries of the parties records refer to, read in one batch."""

    def __init__(self, tables: Tables, idx: GraphIndex, recs: dict[int, dict[str, Any]]):
        self.idx = idx
        refs = list(dict.fromkeys((col, str(v)) for props in recs.values() for col in _PARTY_COLUMNS
                                  if (v := props.get(col)) not in (None, "")))
        wanted: dict[tuple[str, str], int] = {}
        for label in dict.fromkeys(lab for labels in _PARTY_COLUMNS.values() for lab in labels):
            ask = [r for r in refs if label in _PARTY_COLUMNS[r[0]] and r not in wanted]
            for r, i in zip(ask, find_many(idx, label, [v for _, v in ask]).tolist()):
                if i >= 0:
                    wanted[r] = i
        self.at = wanted
        self.props = node_props(tables, idx, sorted(set(wanted.values())))
        # account holders, one step further
        holders: dict[int, int] = {}
        accounts = [(i, str(h)) for i in sorted(set(wanted.values())) if idx.label(i) == "BankAccount"
                    and (h := self.props.get(i, {}).get("holder_id")) not in (None, "")]
        for label in ("Trader", "Person"):
            pending = [(i, h) for i, h in accounts if i not in holders]
            for (i, _), j in zip(pending, find_many(idx, label, [h for _, h in pending]).tolist()):
                if j >= 0:
                    holders[i] = j
        self.holder = holders
        self.props.update(node_props(tables, idx, sorted(set(holders.values()) - set(self.props))))

    def party(self, col: str, value: Any, fallback: str | None = None, country: Any = None) -> str | None:
        """``Name (CC)`` of the party ``value`` in column ``col``; the record's own name and
        country when the graph has no such node."""
        if value in (None, "") and not fallback:
            return None
        i = self.at.get((col, str(value)))
        if i is None:
            name = fallback or str(value)
            return f"{name} ({country})" if country else name
        p = self.props.get(i, {})
        name = caption_of(self.idx.label(i), self.idx.key(i), p)
        cc = p.get("country") or p.get("nationality") or country
        return f"{name} ({cc})" if cc else name

    def account(self, col: str, value: Any) -> str | None:
        """``account ID (holder Name, CC)``."""
        if value in (None, ""):
            return None
        text = f"account {value}"
        i = self.at.get((col, str(value)))
        if i is not None and i in self.holder:
            j = self.holder[i]
            p = self.props.get(j, {})
            name = caption_of(self.idx.label(j), self.idx.key(j), p)
            cc = p.get("country") or p.get("nationality")
            text += f" (held by {name}{', ' + str(cc) if cc else ''})"
        return text


def _record_line(label: str, key: str, p: dict[str, Any], names: _Names) -> str:
    date = p.get("date") or "an unknown date"
    if label == "Declaration":
        rid = str(p.get("declaration_id") or key.split("/")[0])
        item = p.get("item_no")
        if item not in (None, 1, "1"):
            rid += f" item {item}"
        exp = names.party("exporter_id", p.get("exporter_id"), p.get("exporter_name"), p.get("exporter_country"))
        imp = names.party("importer_id", p.get("importer_id"), p.get("importer_name"), p.get("importer_country"))
        parts = [f"{rid} on {date}: {exp or 'unknown exporter'} -> {imp or 'unknown importer'}"]
        if p.get("hs6") or p.get("hs_code"):
            parts.append(f"HS {p.get('hs6') or p.get('hs_code')}")
        if p.get("value_usd") is not None:
            parts.append(money(p["value_usd"]))
        elif p.get("invoice_value") is not None:
            parts.append(money(p["invoice_value"], str(p.get("currency") or "")))
        flow = p.get("flow")
        if flow and p.get("reporting_country"):
            parts.append(f"{str(flow).lower()} declared in {p['reporting_country']}")
        return ", ".join(parts)
    if label == "Payment":
        src = names.account("from_account", p.get("from_account")) or "an unknown account"
        dst = names.account("to_account", p.get("to_account")) or "an unknown account"
        cur = str(p.get("currency") or "USD")
        amount = money(p.get("amount"), cur)
        if cur != "USD" and p.get("amount_usd") is not None:
            amount += f" ({money(p['amount_usd'])})"
        line = f"{p.get('payment_id') or key} on {date}: {src} paid {dst} {amount}"
        if p.get("invoice_no"):
            line += f", invoice {p['invoice_no']}"
        return line
    if label == "CashReport":
        kind = str(p.get("report_type") or "").strip()
        cur = str(p.get("currency") or "USD")
        amount = money(p.get("amount"), cur)
        if cur != "USD" and p.get("amount_usd") is not None:
            amount += f" ({money(p['amount_usd'])})"
        line = f"{p.get('report_id') or key} on {date}: {kind + ' ' if kind else ''}cash report of {amount}"
        direction = {"IN": "in", "OUT": "out"}.get(str(p.get("direction") or "").upper())
        if direction:
            line += f" going {direction}"
        who = names.party("person_id", p.get("person_id"), p.get("person_name"))
        if who:
            line += f", by {who}"
        firm = names.party("trader_id", p.get("trader_id"))
        if firm:
            line += f", for {firm}"
        acc = names.account("account_id", p.get("account_id"))
        if acc:
            line += f", {acc}"
        if p.get("location"):
            line += f", at {p['location']}"
        return line
    return f"{label} {key} on {date}"


def _cycle_line(alert: Alert, idx: GraphIndex, recs: dict[int, dict[str, Any]], names: _Names) -> str | None:
    """The first cycle of a circular trade or payment, party by party."""
    cycles = alert.evidence.get("cycles") if isinstance(alert.evidence, Mapping) else None
    if not cycles or not isinstance(cycles, list) or not isinstance(cycles[0], list):
        return None
    label, src_col, src_name = (("Declaration", "exporter_id", "exporter_name") if alert.pattern == "circular_trade"
                                else ("Payment", "from_account", None))
    by_key = {idx.key(i): p for i, p in recs.items() if idx.label(i) == label}
    steps = []
    for k in cycles[0]:
        p = by_key.get(str(k))
        if p is None:
            return None
        if src_name:
            steps.append(names.party(src_col, p.get(src_col), p.get(src_name), p.get("exporter_country")) or "?")
        else:
            steps.append(names.account(src_col, p.get(src_col)) or "?")
    if not steps:
        return None
    what = "goods" if label == "Declaration" else "money"
    return f"the {what} went around: " + " -> ".join([*steps, steps[0]]) + f" ({len(cycles)} cycle(s) found)"


def _carrier_names(tables: Tables, idx: GraphIndex, keys: list[str]) -> dict[str, str]:
    """``Name (key)`` of the carriers ``keys`` that the graph has (one batch)."""
    found = [(k, i) for k, i in zip(keys, find_many(idx, "Carrier", keys).tolist()) if i >= 0]
    props = node_props(tables, idx, [i for _, i in found])
    return {k: f"{caption_of('Carrier', idx.key(i), props[i])} ({k})" for k, i in found}


def _pattern_lines(alert: Alert, tables: Tables, idx: GraphIndex) -> list[str]:
    """What some patterns found beyond their records (in their own evidence fields)."""
    ev = alert.evidence if isinstance(alert.evidence, Mapping) else {}
    out: list[str] = []
    if alert.pattern == "linked_carriers":
        links = [link for link in ev.get("links") or [] if isinstance(link, Mapping)]
        named = _carrier_names(tables, idx, list(dict.fromkeys(str(c) for link in links
                                                                  for c in link.get("carriers") or [])))
        for link in links:
            if isinstance(link, Mapping):
                carriers = ", ".join(named.get(str(c), str(c)) for c in link.get("carriers") or [])
                out.append(f"carriers {carriers} share {link.get('kind', 'an identifier')} {link.get('value', '')}"
                           .rstrip())
    if alert.pattern == "shell_intermediary":
        ind = ev.get("indicators")
        if isinstance(ind, Mapping):
            for name, d in sorted(ind.items(), key=lambda kv: -float((kv[1] or {}).get("weight") or 0)
                                  if isinstance(kv[1], Mapping) else 0):
                if isinstance(d, Mapping) and d.get("detail"):
                    out.append(f"{str(name).replace('_', ' ')}: {d['detail']}")
    return out


def evidence_text(tables: Tables, alert: Alert, *, limit: int = 60) -> list[str]:
    """The alert in words, one line per item (no JSON).

    Parameters
    ----------
    tables : Tables
        The graph the alert was found in (the resolved view names parties by their entity).
    alert : Alert
        The alert (:func:`graphiff.alerts.stored_alerts` reads them back from a store).
    limit : int
        At most this many record lines; a last line says how many more there are.

    Returns
    -------
    list of str
        The explanation; for circular trade and payments the first cycle party by party; the
        identifiers linking carriers, or the indicators of a shell intermediary; then one line
        per evidence record, oldest first, e.g. ``"D1 on 2024-01-03: Alpha Ltd (KE) -> Beta SA
        (UG), HS 851712, USD 120,000, export declared in KE"``.

    Cost: the adjacency index of ``tables`` (built once), then the properties of the records
    and their parties (one batch each).
    """
    idx = graph_index(tables)
    nums = _record_numbers(idx, alert)
    recs = node_props(tables, idx, nums)
    names = _Names(tables, idx, recs)
    lines = [alert.explanation] if alert.explanation else [f"{alert.pattern} alert {alert.id}"]
    cycle = _cycle_line(alert, idx, recs, names) if alert.pattern in ("circular_trade", "circular_payment") else None
    if cycle:
        lines.append(cycle)
    lines += _pattern_lines(alert, tables, idx)
    ordered = sorted(nums, key=lambda i: (str(recs[i].get("date") or "9999"), idx.node_id(i)))
    for i in ordered[:limit]:
        lines.append(_record_line(idx.label(i), idx.key(i), recs[i], names))
    if len(ordered) > limit:
        lines.append(f"... and {len(ordered) - limit} more record(s)")
    if not nums:
        named = [node_id(str(e.get("label")), str(e.get("id"))) for e in alert.entities]
        if named:
            lines.append("flags " + ", ".join(named))
    return [str(x) for x in lines]
