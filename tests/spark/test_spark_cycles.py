"""circular_payment on Spark (graphiff.spark.cycles): the windowed-join pruning keeps every
payment of a ring, the components keep a ring and the declarations its trade test reads in one
part, and the alerts equal the embedded detector's, by account and by holder, with two-way
trade settled (dropped), settled but tracking tightly (kept) and unsettled (kept)."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.detectors.circular_payment import circular_payment
from graphiff.graph.snapshot import write_snapshot
from graphiff.graph.tables import Tables
from graphiff.spark import cycles
from graphiff.spark.engine import run_spark_detectors
from tests._netkit import account, decl, payment


class FrameStore:
    """The little of a store :func:`write_snapshot` reads, over frames."""

    def __init__(self, nodes: dict[str, pd.DataFrame], rels: dict[str, pd.DataFrame]):
        self._nodes, self._rels = nodes, rels

    def counts(self) -> dict:
        return {"nodes": {k: len(v) for k, v in self._nodes.items() if len(v)},
                "relationships": {k: len(v) for k, v in self._rels.items() if len(v)}}

    def nodes(self, label: str) -> pd.DataFrame:
        return self._nodes[label]

    def rels(self, rel_type: str) -> pd.DataFrame:
        return self._rels[rel_type]

    def iter_nodes(self, label: str, rows: int = 0):
        yield self.nodes(label)

    def iter_rels(self, rel_type: str, rows: int = 0):
        yield self.rels(rel_type)


def _frames() -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    holders = {"Z1": "H10", "Z2": "H10", "A1": "T1", "A2": "T2", "B1": "U1", "B2": "U2", "C1": "V1", "C2": "V2"}
    accounts = [account(a, holders.get(a, f"H{a}")) for a in
                ("K1", "K2", "K3", "K4", "K5", "K6", "K7", "Z1", "Z2", "L1", "L2", "A1", "A2", "B1", "B2", "C1",
                 "C2", "M1", "M2", "M3")]
    pays = [
        # a ring, twice
        payment("c1", "K1", "K2", "2024-01-02", 100_000), payment("c2", "K2", "K3", "2024-01-05", 97_000),
        payment("c3", "K3", "K1", "2024-01-09", 95_000),
        payment("c4", "K1", "K2", "2024-02-02", 95_000), payment("c5", "K2", "K3", "2024-02-04", 93_000),
        payment("c6", "K3", "K1", "2024-02-07", 92_000),
        # by holder only: back to another account of the sender
        payment("h1", "Z1", "L1", "2024-05-01", 40_000), payment("h2", "L1", "L2", "2024-05-03", 39_000),
        payment("h3", "L2", "Z2", "2024-05-06", 38_000),
        # one-way, out of order, back too late: pruned
        payment("s1", "K4", "K5", "2024-01-10", 50_000), payment("s2", "K4", "K5", "2024-02-10", 52_000),
        payment("o1", "K5", "K6", "2024-04-10", 20_000), payment("o2", "K6", "K7", "2024-04-30", 20_000),
        payment("o3", "K7", "K5", "2024-04-20", 20_000),
        payment("w1", "K6", "K4", "2024-01-01", 10_000), payment("w2", "K4", "K6", "2024-07-20", 10_000),
        # two-way trade, each payment settling the payee's shipment to the payer
        {**payment("t1", "A1", "A2", "2024-03-05", 45_000), "declaration_id": "D1"},
        {**payment("t2", "A2", "A1", "2024-03-25", 42_000), "declaration_id": "D2"},
        # the same, amounts tracking within 2 %: made-up invoices, a ring
        {**payment("u1", "B1", "B2", "2024-03-05", 45_000), "declaration_id": "E1"},
        {**payment("u2", "B2", "B1", "2024-03-25", 44_100), "declaration_id": "E2"},
        # unsettled two-way: a ring; one payment names an invoice shared with another ring's
        {**payment("v1", "C1", "C2", "2024-03-05", 45_000), "invoice_no": "INV-9"},
        payment("v2", "C2", "C1", "2024-03-25", 42_000),
        {**payment("m1", "M1", "M2", "2024-09-01", 30_000), "invoice_no": "INV-9"},
        payment("m2", "M2", "M3", "2024-09-02", 29_000), payment("m3", "M3", "M1", "2024-09-03", 28_500),
    ]
    decls = [decl("D1", "T2", "T1", "2024-03-01", value=45_000), decl("D2", "T1", "T2", "2024-03-20", value=42_000),
             decl("E1", "U2", "U1", "2024-03-01", value=45_000), decl("E2", "U1", "U2", "2024-03-20", value=44_100),
             decl("F1", "V2", "V1", "2024-02-01", value=45_000, inv="INV-9"),
             decl("G1", "X1", "X2", "2024-02-01", value=9_000)]
    nodes = {"Payment": pd.DataFrame(pays), "BankAccount": pd.DataFrame(accounts), "Declaration": pd.DataFrame(decls)}
    holds = pd.DataFrame([{"src_label": "Trader", "src": a["holder_id"], "dst_label": "BankAccount", "dst": a["key"]}
                          for a in accounts])
    return nodes, {"HOLDS": holds}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    nodes, rels = _frames()
    snap = tmp_path_factory.mktemp("spark-cycles") / "snap"
    write_snapshot(FrameStore(nodes, rels), snap)
    return snap


def _dicts(alerts) -> list[dict]:
    return [a.to_dict() for a in alerts]


@pytest.mark.parametrize("params", [{}, {"by": "holder"}, {"trade_match": 0.2}, {"window_days": 30}])
def test_spark_rings_equal_the_embedded_rings(spark, snapshot, params):
    nodes, rels = _frames()
    embedded = circular_payment(Tables.from_frames(nodes=nodes, rels=rels), **params)
    assert embedded
    got = run_spark_detectors(snapshot, ["circular_payment"], {"circular_payment": params}, spark=spark,
                              write_back=False, buckets=3)
    assert _dicts(got) == _dicts(embedded)


def test_pruning_keeps_rings_and_their_settlements_together(spark, snapshot):
    from graphiff.detectors.circular_payment import DEFAULTS

    payments = spark.read.parquet(str(snapshot / "nodes" / "Payment"))
    pay, dec, stats = cycles.cycle_parts(payments, DEFAULTS)
    part = dict(pay.toPandas().itertuples(index=False))
    # the one-way, out-of-order and too-late payments are pruned; every ring payment is kept
    assert set(part) == {"c1", "c2", "c3", "c4", "c5", "c6", "t1", "t2", "u1", "u2", "v1", "v2", "m1", "m2", "m3"}
    assert stats["payments"] == 25 and stats["kept"] == 15
    # a ring is in one part; two rings sharing a settled invoice's declaration share one
    assert len({part[k] for k in ("c1", "c2", "c3", "c4", "c5", "c6")}) == 1
    assert part["v1"] == part["m1"] == part["m3"] != part["c1"]
    assert dec is not None
    settled = dict(dec.toPandas().itertuples(index=False))
    assert settled == {"D1/1": part["t1"], "D2/1": part["t1"], "E1/1": part["u1"], "E2/1": part["u1"],
                       "F1/1": part["v1"]}


def test_components_settle_on_a_long_path(spark):
    pairs = spark.createDataFrame([(f"v{i:03d}", f"v{i + 1:03d}") for i in range(40)] + [("x", "y")], ["a", "b"])
    comp = dict(cycles.components(pairs).toPandas().itertuples(index=False))
    assert set(comp.values()) == {"v000", "x"} and len(comp) == 43
