"""Random, model-shaped subgraphs for chart tests, benchmarks and demos (no store needed)."""
from __future__ import annotations

import random

from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode

# hostile values the chart tests put in names and addresses (imported from here, not from
# conftest: several test folders have a conftest module)
XSS_NAME = "<img src=x onerror=alert(1)>"
FORMULA_NAME = '=HYPERLINK("http://x")'
QUOTES_NAME = "O'Brien & \"Sons\" <b>bold</b>"
SCRIPT_ADDRESS = "</script><script>alert(2)</script> 1 Main St"
MATH_NAME = "$x^2$ \\frac Trading \x07 Co \u2028 line"

# relationship type -> (source label, target label), a subset of graphiff/model/model.yaml
_RELS = [
    ("EXPORTED", "Trader", "Declaration"),
    ("IMPORTED_BY", "Declaration", "Trader"),
    ("CARRIED_BY", "Declaration", "Carrier"),
    ("IN_CONTAINER", "Declaration", "Container"),
    ("ON_CONVEYANCE", "Declaration", "Conveyance"),
    ("OFFICER_OF", "Person", "Trader"),
    ("HOLDS", "Trader", "BankAccount"),
    ("SENT", "BankAccount", "Payment"),
    ("RECEIVED_BY", "Payment", "BankAccount"),
    ("SETTLES", "Payment", "Declaration"),
    ("FILED_BY", "CashReport", "Person"),
    ("LOCATED_AT", "Trader", "Address"),
    ("HAS_PHONE", "Person", "Phone"),
    ("HAS_EMAIL", "Trader", "Email"),
    ("IN_COUNTRY", "Trader", "Country"),
]
_MIX = {"Trader": 14, "Person": 8, "Carrier": 2, "Declaration": 30, "BankAccount": 8, "Payment": 16,
        "CashReport": 3, "Conveyance": 2, "Container": 5, "Address": 5, "Phone": 2, "Email": 2,
        "Country": 1, "Alert": 2}


def _props(label: str, i: int, rng: random.Random, load_id: str) -> dict:
    p = {"_source": f"{label.lower()}s.csv", "_line": i + 2, "_load_id": load_id,
         "_loaded_at": "2024-06-01T10:00:00Z"}
    date = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if label == "Trader":
        p.update(name=f"Trader {i} Ltd", country=rng.choice(["DE", "CN", "AE", "TR", "NL"]),
                 employees=rng.randint(1, 500), registration_date=date, origin="file")
    elif label == "Person":
        p.update(name=f"Person {i}", nationality=rng.choice(["DE", "FR", "RU"]))
    elif label == "Declaration":
        p.update(declaration_id=f"DEC{i:07d}", item_no=1, flow=rng.choice(["IMPORT", "EXPORT"]), date=date,
                 hs_code="8471300000", hs6="847130", invoice_value=round(rng.uniform(1e3, 1e6), 2), currency="EUR",
                 value_usd=round(rng.uniform(1e3, 1e6), 2), usd_status="converted", quantity=None)
    elif label == "Payment":
        p.update(date=date, amount=round(rng.uniform(1e3, 1e6), 2), currency="USD", usd_status="given")
    elif label == "CashReport":
        p.update(report_type="BORDER", date=date, amount=round(rng.uniform(1e4, 1e5), 2), currency="EUR")
    elif label == "Alert":
        p.update(pattern="circular_trade", score=round(rng.random(), 3), explanation=f"Cycle found ({i})",
                 evidence='{"declarations": []}')
    return p


def random_subgraph(n_nodes: int, *, seed: int = 0, avg_degree: float = 2.4, title: str | None = None) -> Subgraph:
    """A random subgraph of about ``n_nodes`` nodes with the label mix of a customs case,
    provenance on every node and relationship, and alerts flagging a few entities."""
    rng = random.Random(seed)
    total = sum(_MIX.values())
    nodes: list[SubNode] = []
    by_label: dict[str, list[SubNode]] = {}
    for label, share in _MIX.items():
        count = max(1, round(n_nodes * share / total))
        for i in range(count):
            key = f"{label[:3].upper()}{i:06d}"
            props = _props(label, i, rng, "load-1")
            caption = str(props.get("name") or (props.get("pattern") if label == "Alert" else key))
            node = SubNode(id=f"{label}:{key}", label=label, key=key, caption=caption, props=props)
            nodes.append(node)
            by_label.setdefault(label, []).append(node)
    nodes = nodes[:n_nodes] if len(nodes) > n_nodes else nodes
    present = {n.id for n in nodes}
    by_label = {lab: [n for n in ns if n.id in present] for lab, ns in by_label.items()}

    edges: list[SubEdge] = []
    seen: set[tuple[str, str, str]] = set()

    def add(rtype: str, s: SubNode, t: SubNode) -> None:
        if (rtype, s.id, t.id) in seen:
            return
        seen.add((rtype, s.id, t.id))
        props = {"_source": "rels.csv", "_line": len(edges) + 2, "_load_id": "load-1",
                 "_loaded_at": "2024-06-01T10:00:00Z"}
        if rtype == "OFFICER_OF":
            props.update(role="DIRECTOR", start_date="2020-01-01")
        edges.append(SubEdge(id=f"{rtype}:{s.id}->{t.id}", source=s.id, target=t.id, type=rtype, props=props))

    rels = [r for r in _RELS if by_label.get(r[1]) and by_label.get(r[2])]
    # every node gets at least one relationship (a selection is a neighbourhood, not confetti)
    for node in nodes:
        options = [r for r in rels if node.label in (r[1], r[2])]
        if not options:
            continue
        rtype, sl, tl = rng.choice(options)
        if sl == node.label:
            add(rtype, node, rng.choice(by_label[tl]))
        else:
            add(rtype, rng.choice(by_label[sl]), node)
    want = int(len(nodes) * avg_degree / 2)
    tries = 0
    while len(edges) < want and rels and tries < want * 5:
        tries += 1
        rtype, sl, tl = rng.choice(rels)
        add(rtype, rng.choice(by_label[sl]), rng.choice(by_label[tl]))
    targets = [n for n in nodes if n.label in ("Trader", "Declaration", "Payment", "BankAccount")]
    for alert in by_label.get("Alert", []):
        for t in rng.sample(targets, min(3, len(targets))):
            edges.append(SubEdge(id=f"FLAGS:{alert.id}->{t.id}", source=alert.id, target=t.id, type="FLAGS",
                                 props={"_source": "alerts.json", "_load_id": "detect-1"}))
    return Subgraph(nodes=nodes, edges=edges, omitted={"Declaration": max(0, n_nodes // 10)},
                    seeds=[nodes[0].id] if nodes else [], title=title or f"Random case ({len(nodes)} nodes)")
