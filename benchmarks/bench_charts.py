"""Link-chart export benchmark (target: a chart of up to 5,000 nodes in <= 2 s; results: BENCHMARKS.md).

    python benchmarks/bench_charts.py                       # 1k and 5k nodes, every format
    python benchmarks/bench_charts.py --sizes 5000 --formats html --browser --json out.json

Builds random, model-shaped subgraphs (tests/charts/synthetic.py), writes each
format ``--repeat`` times and reports the best and median wall time, the median CPU time of this
process (less sensitive to a busy machine) and the file size. The HTML budget is checked on the
median wall time. Library
imports (igraph, networkx, matplotlib) are warmed up first and reported separately, as a CLI run
pays them once. ``--browser`` also opens the HTML page in headless Chromium and reports the time
until the chart is drawn (window.graphiffReady) and the page's own parse/init/render split.
Figures go into BENCHMARKS.md by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "charts"))

from synthetic import random_subgraph  # noqa: E402

from graphiff.charts.base import FORMATS, write_chart  # noqa: E402

HTML_BUDGET_S = 2.0
CHROMIUM = "/usr/bin/chromium"


def warm_up(tmp: Path) -> dict[str, float]:
    """Import the heavy libraries once (timed), as the first chart of a CLI run would."""
    out = {}
    for name, stmt in (("igraph", "import igraph"), ("networkx", "import networkx"),
                       ("matplotlib", "import matplotlib.figure, matplotlib.backends.backend_agg")):
        t = time.perf_counter()
        exec(stmt, {})
        out[name] = time.perf_counter() - t
    tiny = random_subgraph(20, seed=1)
    for fmt in FORMATS:
        write_chart(tiny, fmt, tmp / f"warm{FORMATS[fmt].suffix}")
    return out


def time_format(sub, fmt: str, out: Path, repeat: int) -> dict:
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        write_chart(sub, fmt, out)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"best_s": min(times), "median_s": statistics.median(times), "cpu_s": statistics.median(cpu),
            "bytes": out.stat().st_size}


def open_in_browser(path: Path) -> dict | None:
    if not os.path.exists(CHROMIUM):
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = b.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_function("() => window.graphiffReady === true", timeout=120_000)
        wall = time.perf_counter() - t
        timings = page.evaluate("() => window.graphiffTimings")
        count = page.evaluate("() => window.graphiffNodeCount")
        b.close()
    return {"ready_s": wall, "nodes_drawn": count, "page_ms": timings, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--browser", action="store_true", help="also time opening the HTML page in Chromium")
    ap.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = ap.parse_args(argv)

    report: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "platform": platform.platform()}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-charts-") as tmpdir:
        tmp = Path(tmpdir)
        report["imports_s"] = warm_up(tmp)
        print("imports (once per process): " + ", ".join(f"{k} {v:.2f}s" for k, v in report["imports_s"].items()))
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = float("nan")
        report["machine"]["loadavg_1min"] = load
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs (wall times grow with it; cpu s much less)")
        print(f"{'nodes':>6} {'edges':>6}  {'format':<8} {'best s':>7} {'median s':>8} {'cpu s':>6} {'MB':>7}")
        ok = True
        for size in args.sizes:
            sub = random_subgraph(size, seed=size)
            for fmt in args.formats:
                out = tmp / f"chart-{size}{FORMATS[fmt].suffix}"
                r = time_format(sub, fmt, out, args.repeat)
                run = {"nodes": len(sub.nodes), "edges": len(sub.edges), "format": fmt, **r}
                flag = ""
                if fmt == "html" and size <= 5000:
                    run["within_budget"] = r["median_s"] <= HTML_BUDGET_S
                    ok &= run["within_budget"]
                    flag = "  ok (<= 2 s)" if run["within_budget"] else "  OVER BUDGET (2 s)"
                if fmt == "html" and args.browser:
                    run["browser"] = open_in_browser(out)
                    if run["browser"]:
                        b = run["browser"]
                        pm = b["page_ms"]
                        flag += (f"  | Chromium: drawn in {b['ready_s']:.2f}s (parse {pm['parse']:.0f} ms, "
                                 f"init {pm['init']:.0f} ms, render {pm['render']:.0f} ms)")
                report["runs"].append(run)
                print(f"{run['nodes']:>6} {run['edges']:>6}  {fmt:<8} {r['best_s']:>7.3f} {r['median_s']:>8.3f} "
                      f"{r['cpu_s']:>6.2f} {r['bytes'] / 1e6:>7.2f}{flag}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
