"""Workbench benchmark (`graphiff serve`; budgets of design.md section 10; results: BENCHMARKS.md).

    python benchmarks/bench_workbench.py --store world.duckdb --world world/ --json out.json
    python benchmarks/bench_workbench.py --store bolt://127.0.0.1:7687 --world world/ --no-browser

Starts a real ``graphiff serve`` on the store (a subprocess, as an analyst would), waits for its
``graphiff workbench at ...`` line and measures through HTTP only:

- start-up: time until the server answers (it reads the graph and builds its search index);
- search p50/p95 over misspelt names (one letter dropped, two swapped, case changed), tax ids,
  declaration ids, all drawn from the world's CSV files (budget p95 <= 150 ms);
- neighbourhood p50/p95 of random traders and carriers, 1 and 2 hops, node cap 500, records
  and aggregated (budget p95 <= 300 ms embedded, <= 600 ms Neo4j), with the node counts;
- alert list p50/p95 (all, by pattern, by score; budget <= 200 ms);
- a 300-node view drawn in headless Chromium (the page's own ``window.graphiff.lastDrawMs``
  and the wall time from request to drawn; budget <= 1.5 s), unless ``--no-browser``;
- 20 concurrent clients for 60 s (a mix of the requests above): requests, errors, p50/p95;
- the server process's memory (RSS after start-up and peak, via psutil, children included).

The world folder is the one the store was loaded from (``graphiff samples OUT``): its traders,
carriers and declarations give the queries. Figures go into BENCHMARKS.md by hand.

The cost of the audit log (every request is audited, docs/case-work.md)::

    python benchmarks/bench_workbench.py --store world.duckdb --world world/ --audit-compare --json out.json

starts two servers on the store, side by side: ``graphiff serve`` as shipped, and the same
``graphiff serve`` with the audit switched off in its process (``--serve-without-audit``: no
entry built, queued or written -- a baseline only this benchmark can start). It then asks both
the same searches, 1- and 2-hop neighbourhoods and alert lists, ``--rounds`` times, in turns of
200 requests whose order alternates, and ``--clients`` concurrent clients for ``--seconds`` each;
it reports p50/p95 of each server, the p95 ratio (budget: the audit adds at most 10%), and how
many entries the audited server wrote (one per request but ``/api/health``).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
GRAPHIFF = [str(Path(sys.executable).with_name("graphiff"))]
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(store: str, port: int, database: str | None, *, audit: bool = True
                 ) -> tuple[subprocess.Popen, float, str]:
    args = ["--store", store, "--port", str(port)]
    if database:
        args += ["--database", database]
    cmd = [*GRAPHIFF, "serve", *args] if audit else [sys.executable, __file__, "--serve-without-audit", *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    assert proc.stdout is not None
    url = ""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        m = re.search(r"graphiff workbench at (http://\S+)", line)
        if m:
            url = m.group(1).rstrip("/")
            break
    if not url:
        raise SystemExit("graphiff serve did not start:\n" + "".join(lines[-20:]))
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()   # drain the log
    with httpx.Client(timeout=600) as c:
        c.get(url + "/api/health").raise_for_status()
    return proc, time.perf_counter() - t0, url


def rss_mb(proc: subprocess.Popen) -> float:
    p = psutil.Process(proc.pid)
    return sum(x.memory_info().rss for x in [p, *p.children(recursive=True)]) / 2**20


def read_rows(path: Path, n: int, rng: random.Random) -> list[dict[str, str]]:
    """A random sample of ``n`` rows of a CSV file (reservoir sampling: one pass, little memory)."""
    out: list[dict[str, str]] = []
    with path.open(newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if len(out) < n:
                out.append(row)
            else:
                j = rng.randrange(i + 1)
                if j < n:
                    out[j] = row
    return out


def misspell(name: str, rng: random.Random) -> str:
    words = name.split()
    if not words:
        return name
    k = max(range(len(words)), key=lambda i: len(words[i]))
    w = words[k]
    if len(w) >= 5:
        i = rng.randrange(1, len(w) - 2)
        w = w[:i] + w[i + 1] + w[i] + w[i + 2:] if rng.random() < 0.5 else w[:i] + w[i + 1:]
    words[k] = w
    text = " ".join(words)
    return text.lower() if rng.random() < 0.5 else text.upper()


def timed(client: httpx.Client, url: str, params: dict[str, Any] | None = None) -> tuple[float, Any]:
    t = time.perf_counter()
    r = client.get(url, params=params)
    ms = (time.perf_counter() - t) * 1000
    r.raise_for_status()
    return ms, r.json()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 1), "p95_ms": round(pct(ms, 95), 1),
            "max_ms": round(max(ms), 1) if ms else float("nan")}


def bench_search(client: httpx.Client, base: str, world: Path, rng: random.Random, n: int) -> dict[str, Any]:
    traders = read_rows(world / "traders.csv", n, rng)
    decls = read_rows(world / "declarations.csv", max(10, n // 4), rng)
    queries: list[tuple[str, str, str]] = []      # kind, query, expected key
    for t in traders:
        queries.append(("misspelt name", misspell(t["name"], rng), t["trader_id"]))
        if t.get("tin"):
            queries.append(("tax id", t["tin"], t["trader_id"]))
    for d in decls:
        queries.append(("declaration id", d["declaration_id"], ""))
    rng.shuffle(queries)
    entity: dict[str, str] = {}       # record key -> the entity id the server names it by (resolution)
    for kind, _q, key in queries:
        if kind == "misspelt name" and key not in entity:
            entity[key] = client.get(base + "/api/entity", params={"id": f"Trader:{key}"}).json()["node"]["id"]
    timed(client, base + "/api/search", {"q": "warm up"})
    by_kind: dict[str, list[float]] = {}
    found_first = found_any = names = 0
    for kind, q, key in queries:
        ms, body = timed(client, base + "/api/search", {"q": q, "limit": 10})
        by_kind.setdefault(kind, []).append(ms)
        if kind == "misspelt name":
            names += 1
            hits = [r["id"] for r in body["results"]]
            found_first += bool(hits) and hits[0] == entity[key]
            found_any += entity[key] in hits
    every = [x for v in by_kind.values() for x in v]
    return {"all": summary(every), **{k: summary(v) for k, v in by_kind.items()},
            "misspelt_found_first": round(found_first / max(names, 1), 3),
            "misspelt_found_in_10": round(found_any / max(names, 1), 3)}


def bench_neighbourhood(client: httpx.Client, base: str, world: Path, rng: random.Random, n: int) -> dict[str, Any]:
    traders = [r["trader_id"] for r in read_rows(world / "traders.csv", n, rng)]
    carriers = [r["carrier_id"] for r in read_rows(world / "carriers.csv", max(5, n // 5), rng)]
    out: dict[str, Any] = {}
    for hops in (1, 2):
        for agg in (False, True):
            ms_all: list[float] = []
            sizes: list[int] = []
            for key, label in [(t, "Trader") for t in traders] + [(c, "Carrier") for c in carriers]:
                ms, body = timed(client, base + "/api/neighbourhood",
                                 {"id": f"{label}:{key}", "hops": hops, "limit": 500, "aggregate": str(agg).lower()})
                ms_all.append(ms)
                sizes.append(len(body["nodes"]))
            out[f"hops {hops}{' aggregated' if agg else ''}"] = {
                **summary(ms_all), "nodes_p50": statistics.median(sizes), "nodes_max": max(sizes)}
    return out


def bench_alerts(client: httpx.Client, base: str, repeat: int) -> dict[str, Any]:
    _, body = timed(client, base + "/api/alerts", {"limit": 1})
    patterns = sorted(body.get("patterns", {}))
    ms_list: list[float] = []
    for i in range(repeat):
        params: dict[str, Any] = [{"limit": 100}, {"limit": 100, "sort": "date"},
                                  {"limit": 100, "min_score": 0.5}][i % 3]
        if patterns and i % 2:
            params = {**params, "pattern": patterns[i % len(patterns)]}
        ms, _ = timed(client, base + "/api/alerts", params)
        ms_list.append(ms)
    return {**summary(ms_list), "total_alerts": body.get("total")}


def bench_browser(base: str, world: Path, rng: random.Random, target: int = 300) -> dict[str, Any]:
    """Open the page, ask for a view of about ``target`` nodes and time its drawing."""
    from playwright.sync_api import sync_playwright

    traders = [r["trader_id"] for r in read_rows(world / "traders.csv", 400, rng)]
    with httpx.Client(timeout=120) as c:
        chosen = None
        for t in traders:
            body = c.get(base + "/api/neighbourhood", params={"id": f"Trader:{t}", "hops": 2, "limit": target}).json()
            if len(body.get("nodes", ())) >= target * 0.9:
                chosen = (t, len(body["nodes"]), len(body["edges"]))
                break
    if chosen is None:
        return {"skipped": f"no trader with a 2-hop view of {target} nodes among 400 sampled"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else None)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(base + "/")
        page.wait_for_function("() => window.graphiff && window.graphiff.ready === true", timeout=60_000)
        runs = []
        for _ in range(3):
            page.reload()
            page.wait_for_function("() => window.graphiff && window.graphiff.ready === true", timeout=60_000)
            page.fill("#filter-hops", "2")
            page.fill("#filter-limit", str(target))
            page.uncheck("#filter-aggregate")         # the records themselves: 300 nodes on the canvas
            before = page.evaluate("() => window.graphiff.draws")
            t = time.perf_counter()
            page.evaluate("(id) => { window.graphiff.open(id); }", f"Trader:{chosen[0]}")
            page.wait_for_function("(n) => window.graphiff.draws > n && window.graphiff.busy === 0", arg=before,
                                   timeout=60_000)
            wall = (time.perf_counter() - t) * 1000
            drawn = page.evaluate("() => window.graphiff.lastDrawMs")
            runs.append({"wall_ms": round(wall, 1), "draw_ms": round(drawn, 1),
                         "nodes": page.evaluate("() => window.graphiff.cy.nodes().length")})
        browser.close()
    return {"seed": chosen[0], "api_nodes": chosen[1], "api_edges": chosen[2], "runs": runs,
            "wall_ms_median": statistics.median(r["wall_ms"] for r in runs),
            "draw_ms_median": statistics.median(r["draw_ms"] for r in runs)}


def bench_concurrent(base: str, world: Path, rng: random.Random, clients: int, seconds: float,
                     proc: subprocess.Popen, raw: list[float] | None = None) -> dict[str, Any]:
    """``clients`` clients asking a mix of requests for ``seconds``; every latency is also
    appended to ``raw`` when given."""
    traders = read_rows(world / "traders.csv", 500, rng)
    requests: list[Callable[[httpx.Client], httpx.Response]] = []
    for t in traders[:200]:
        requests.append(lambda c, q=misspell(t["name"], rng): c.get(base + "/api/search", params={"q": q}))
        requests.append(lambda c, k=t["trader_id"]: c.get(base + "/api/neighbourhood",
                                                          params={"id": f"Trader:{k}", "hops": 1, "limit": 300}))
    requests.append(lambda c: c.get(base + "/api/alerts", params={"limit": 50}))
    requests.append(lambda c: c.get(base + "/api/health"))
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    peak = [rss_mb(proc)]

    def worker(i: int) -> None:
        r = random.Random(i)
        with httpx.Client(timeout=30) as c:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    resp = r.choice(requests)(c)
                    ok = resp.status_code == 200
                    err = "" if ok else f"HTTP {resp.status_code}: {resp.text[:120]}"
                except httpx.HTTPError as exc:
                    ok, err = False, f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    lat.append(ms)
                    if not ok:
                        errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak.append(rss_mb(proc))
        time.sleep(0.5)
    if raw is not None:
        raw.extend(lat)
    return {"clients": clients, "seconds": seconds, "requests": len(lat), "errors": len(errors),
            "first_errors": errors[:5], "per_second": round(len(lat) / seconds, 1), **summary(lat),
            "server_rss_peak_mb": round(max(peak), 1)}


# =============================================================================================
# The cost of the audit log
# =============================================================================================

class _NoAudit:
    """An audit writer that writes nothing (the baseline server only)."""

    def write(self, entry: Any, *, wait: bool = False, timeout: float = 60.0) -> None:
        return None

    def flush(self, timeout: float = 60.0) -> None:
        return None

    def close(self, timeout: float = 60.0) -> None:
        return None


def serve_without_audit(args: list[str]) -> None:
    """``graphiff serve ARGS`` in this process with the audit switched off: requests build no
    entry (``Caller.log`` does nothing) and no writer thread runs. Everything else -- sign-in,
    the triage merge, the socket -- is the shipped server's."""
    import graphiff.workbench as wb
    from graphiff.cli import main as graphiff_main
    from graphiff.workbench.auth import Caller

    real = wb.create_app

    def create_app(*a: Any, **k: Any) -> Any:
        app = real(*a, **k)
        app.state.auth.audit.close()
        app.state.auth.audit = _NoAudit()
        return app

    wb.create_app = create_app  # type: ignore[assignment]
    Caller.log = lambda self, *a, **k: None  # type: ignore[method-assign]
    sys.argv = ["graphiff", "serve", *args]
    graphiff_main()


def audit_entries(store: str, database: str | None) -> int:
    """How many entries the store's audit log holds."""
    from graphiff.casework.audit import CHAIN
    from graphiff.stores import open_book

    with open_book(store, database=database) as book:
        got = book.entries(CHAIN)
        return int(got[-1]["seq"]) if got else 0


def compare_plan(world: Path, rng: random.Random, n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The requests both servers are asked, in order: ``(kind, path, params)``."""
    plan: list[tuple[str, str, dict[str, Any]]] = []
    for t in read_rows(world / "traders.csv", n, rng):
        plan.append(("search", "/api/search", {"q": misspell(t["name"], rng), "limit": 10}))
    for d in read_rows(world / "declarations.csv", max(10, n // 4), rng):
        plan.append(("search", "/api/search", {"q": d["declaration_id"], "limit": 10}))
    seeds = [f"Trader:{r['trader_id']}" for r in read_rows(world / "traders.csv", max(20, n // 3), rng)]
    seeds += [f"Carrier:{r['carrier_id']}" for r in read_rows(world / "carriers.csv", max(5, n // 15), rng)]
    for s in seeds:
        plan.append(("neighbourhood 1 hop", "/api/neighbourhood", {"id": s, "hops": 1, "limit": 500}))
        plan.append(("neighbourhood 2 hops", "/api/neighbourhood", {"id": s, "hops": 2, "limit": 500}))
    for i in range(180):
        plan.append(("alert list", "/api/alerts", [{"limit": 100}, {"limit": 100, "sort": "date"},
                                                  {"limit": 100, "min_score": 0.5}][i % 3]))
    rng.shuffle(plan)
    return plan


def run_plan(client: httpx.Client, base: str, plan: list[tuple[str, str, dict[str, Any]]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for kind, path, params in plan:
        t = time.perf_counter()
        r = client.get(base + path, params=params)
        ms = (time.perf_counter() - t) * 1000
        if r.status_code not in (200, 404):     # a misspelt name may find nothing; an id always exists
            raise SystemExit(f"{path} {params}: HTTP {r.status_code} {r.text[:200]}")
        out.setdefault(kind, []).append(ms)
    return out


#: Requests asked of one server before the other's turn (the audit comparison: several seconds, so
#: that the audited server writes its batches within its turns as it does in steady use), and the
#: pause after the audited server's turn: longer than the audit writer's linger, so that its last
#: batch is not written while the other server answers.
BLOCK = 200
PAUSE = 1.1


def bench_audit_compare(a: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """Both servers, the same requests, in turns of :data:`BLOCK` requests whose order alternates
    (so that the machine's other load falls on both alike); p50/p95 per kind and their ratio."""
    plan = compare_plan(a.world, rng, a.queries)
    before = audit_entries(a.store, a.database)
    servers: dict[str, tuple[subprocess.Popen, float, str]] = {}
    res: dict[str, Any] = {"requests_per_round": len(plan), "rounds": a.rounds}
    try:
        for name, audit in (("audited", True), ("baseline", False)):
            servers[name] = start_server(a.store, free_port(), a.database, audit=audit)
            res[f"startup_s_{name}"] = round(servers[name][1], 1)
        lat: dict[str, dict[str, list[float]]] = {"audited": {}, "baseline": {}}
        clients = {name: httpx.Client(timeout=120) for name in servers}
        try:
            for name, (_, _, base) in servers.items():      # warm up: first searches, first alert list
                run_plan(clients[name], base, plan[:20])
            asked = 20
            blocks = [plan[i:i + BLOCK] for i in range(0, len(plan), BLOCK)]
            for r in range(a.rounds):
                for b, block in enumerate(blocks):
                    order = ["audited", "baseline"] if (r + b) % 2 == 0 else ["baseline", "audited"]
                    for name in order:
                        for kind, ms in run_plan(clients[name], servers[name][2], block).items():
                            lat[name].setdefault(kind, []).extend(ms)
                        if name == "audited":
                            time.sleep(PAUSE)      # its last batch is written before the other's turn
                asked += len(plan)
                print(json.dumps({"round": r + 1, "done": True}), flush=True)
        finally:
            for c in clients.values():
                c.close()
        kinds = sorted(lat["audited"])
        res["sequential"] = {k: {"audited": summary(lat["audited"][k]), "baseline": summary(lat["baseline"][k]),
                                 "p95_ratio": round(pct(lat["audited"][k], 95) / pct(lat["baseline"][k], 95), 3)}
                             for k in kinds}
        every = {n: [x for v in lat[n].values() for x in v] for n in lat}
        res["sequential"]["all"] = {"audited": summary(every["audited"]), "baseline": summary(every["baseline"]),
                                    "p95_ratio": round(pct(every["audited"], 95) / pct(every["baseline"], 95), 3)}
        if a.seconds > 0:       # four turns of seconds/2, alternating: baseline, audited, audited, baseline
            raw: dict[str, list[float]] = {"audited": [], "baseline": []}
            counts = {"audited": 0, "baseline": 0}
            errors = {"audited": 0, "baseline": 0}
            for name in ("baseline", "audited", "audited", "baseline"):
                proc, _, base = servers[name]
                got = bench_concurrent(base, a.world, random.Random(a.seed), a.clients, a.seconds / 2, proc,
                                       raw[name])
                time.sleep(PAUSE)
                counts[name] += got["requests"]
                errors[name] += got["errors"]
            res["concurrent"] = {name: {"clients": a.clients, "seconds": a.seconds, "requests": counts[name],
                                        "errors": errors[name], "per_second": round(counts[name] / a.seconds, 1),
                                        **summary(raw[name])} for name in raw}
            c = res["concurrent"]
            c["p95_ratio"] = round(c["audited"]["p95_ms"] / c["baseline"]["p95_ms"], 3)
            c["throughput_ratio"] = round(c["audited"]["per_second"] / c["baseline"]["per_second"], 3)
            asked += c["audited"]["requests"]
        time.sleep(1.0)                                     # the writer's last batch
        res["audit_entries_written"] = audit_entries(a.store, a.database) - before
        res["audited_requests"] = asked
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return res


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-without-audit":
        serve_without_audit(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True, help="embedded store file or bolt:// URI")
    ap.add_argument("--database", default=None)
    ap.add_argument("--world", type=Path, required=True, help="the folder the store was loaded from")
    ap.add_argument("--queries", type=int, default=300, help="search queries and neighbourhoods sampled")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--audit-compare", action="store_true",
                    help="compare the p95 of a server that audits every request with one that does not")
    ap.add_argument("--rounds", type=int, default=4, help="rounds of the audit comparison")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    if a.audit_compare:
        out = {"store": "neo4j" if a.store.startswith(("bolt", "neo4j")) else "embedded",
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                          f"{round(psutil.virtual_memory().total / 2**30)} GB",
               "audit_compare": bench_audit_compare(a, rng)}
        text = json.dumps(out, indent=2, default=str)
        print(text)
        if a.json:
            a.json.write_text(text + "\n", encoding="utf-8")
        return
    proc, startup, base = start_server(a.store, free_port(), a.database)
    res: dict[str, Any] = {"store": "neo4j" if a.store.startswith(("bolt", "neo4j")) else "embedded",
                           "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                                      f"{round(psutil.virtual_memory().total / 2**30)} GB",
                           "startup_s": round(startup, 1)}
    try:
        res["server_rss_after_start_mb"] = round(rss_mb(proc), 1)
        with httpx.Client(timeout=120) as client:
            res["health"] = client.get(base + "/api/health").json()
            res["search"] = bench_search(client, base, a.world, rng, a.queries)
            print(json.dumps({"search": res["search"]}), flush=True)
            res["neighbourhood"] = bench_neighbourhood(client, base, a.world, rng, max(20, a.queries // 3))
            print(json.dumps({"neighbourhood": res["neighbourhood"]}), flush=True)
            res["alerts"] = bench_alerts(client, base, 60)
        if not a.no_browser:
            res["browser_300"] = bench_browser(base, a.world, rng)
            print(json.dumps({"browser_300": res["browser_300"]}), flush=True)
        res["concurrent"] = bench_concurrent(base, a.world, rng, a.clients, a.seconds, proc)
        res["server_rss_end_mb"] = round(rss_mb(proc), 1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = json.dumps(res, indent=2, default=str)
    print(text)
    if a.json:
        a.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
