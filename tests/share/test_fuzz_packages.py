"""Fuzzing package import as a habit: a valid small package (made with ``graphiff package`` from
a tiny loaded world) is mutated -- member bytes, CSV cells and headers, manifest fields and their
types, JSON nesting, planted rows -- then *re-hashed* so the manifest matches and the mutation
reaches the parsers, and imported with ``graphiff import-package`` (the real entry point,
in-process) into a store holding local data.

For every mutated package: the exit code is 0 or 2, nothing prints a traceback, and on exit 2
``status --json`` is exactly what it was before the import (nothing half-written, no load entry).
After any import, ``status`` still works.

Reproducible (``derandomize=True``, no example database) and short; raise
``GRAPHIFF_FUZZ_EXAMPLES`` to search longer locally.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from _clikit import run_cli
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from world import write_world

from graphiff.alerts import Alert, replace_alerts
from graphiff.ingest import load_paths
from graphiff.stores import open_store

EXAMPLES = int(os.environ.get("GRAPHIFF_FUZZ_EXAMPLES", "15"))
# no shrinking unless asked (GRAPHIFF_FUZZ_SHRINK=1): a failure in CI reports the example as found in
# seconds instead of spending minutes minimising it
PHASES = tuple(Phase) if os.environ.get("GRAPHIFF_FUZZ_SHRINK") else (Phase.explicit, Phase.generate)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
                phases=PHASES, suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------------------ the package
@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Any]:
    """A valid package (with one alert) as {member: bytes}, and a local store to import into."""
    tmp = tmp_path_factory.mktemp("fuzz-packages")
    src = tmp / "source.duckdb"
    with open_store(str(src)) as s:
        load_paths(s, [write_world(tmp / "world")], quarantine_dir=tmp / "q")
        replace_alerts(s, [Alert(pattern="third_party_payment", score=0.8,
                                 entities=[{"label": "Trader", "id": "T1"}, {"label": "Person", "id": "P1"}],
                                 explanation="Jane Doe (P1) paid for T1", evidence={"payments": ["PAY1"]})],
                       run_id="R1", loaded_at="2024-06-01T00:00:00Z")
    pkg = tmp / "package.zip"
    code, out = run_cli("package", "--store", str(src), "--out", str(pkg), "--purpose", "fuzz", "--marking",
                        "TLP:AMBER", "--seed", "T1", "--hops", "2", "--redact", "none", "--producer", "Partner")
    assert code == 0, out
    with zipfile.ZipFile(pkg) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    # the local store: one trader whose id the partner also uses, and a rate
    local = tmp / "local"
    local.mkdir()
    (local / "traders.csv").write_text("trader_id,name,country\nT1,Local Co,KE\nL9,Other Local,UG\n",
                                       encoding="utf-8")
    (local / "rates.csv").write_text("currency,month,usd_per_unit\nKES,2024-01,0.0065\n", encoding="utf-8")
    dst = tmp / "local.duckdb"
    with open_store(str(dst)) as s:
        load_paths(s, [local], quarantine_dir=tmp / "q")
    code, status = run_cli("status", "--store", str(dst), "--json")
    assert code == 0, status
    return {"members": members, "store": dst, "status": json.loads(status)}


def rehash(members: dict[str, bytes], manifest: Any) -> bytes:
    """The package zip with the manifest's sizes and SHA-256 updated to the (mutated) members."""
    if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        for name, data in members.items():
            if name != "manifest.json" and isinstance(manifest["files"].get(name), dict):
                manifest["files"][name].update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if name != "manifest.json":
                zf.writestr(name, data)
        zf.writestr("manifest.json", json.dumps(manifest, allow_nan=True, ensure_ascii=False)
                    .encode("utf-8", "surrogatepass"))
    return buf.getvalue()


def check_import(setup: dict[str, Any], package: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="graphiff-fuzz-") as tmp:
        db = Path(tmp) / "store.duckdb"
        shutil.copyfile(setup["store"], db)
        pkg = Path(tmp) / "partner.zip"
        pkg.write_bytes(package)
        code, out = run_cli("import-package", str(pkg), "--store", str(db))
        assert code in (0, 2), f"exit {code}:\n{out}"
        assert "Traceback" not in out, out
        status_code, status = run_cli("status", "--store", str(db), "--json")
        assert status_code == 0 and "Traceback" not in status, status
        if code == 2:
            assert len(out.strip().splitlines()) == 1, f"a refusal is one line:\n{out}"
            assert json.loads(status) == setup["status"], "a refused import changed the store"


# ------------------------------------------------------------------------------ mutations
HOSTILE = ["", "[/]", "[bold]x", "not-a-number", "99999999999999999999", "1.5e300", "NaN", "-inf", "\x00",
           "\ufeff", '"', ",", "\n", "Alert", "FLAGS", "Trader", "Trader:T1", "Alert:A1", "key", "id", "rid",
           "NAME", "_source", "_load_id", "é" * 200, "=cmd|' /C calc'!A0"]
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
              st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(HOSTILE), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(HOSTILE + ["files",
                            "nodes", "edges", "policy", "sha256", "size"]), inner, max_size=3)),
    max_leaves=6)
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))


def _deep(depth: int, as_list: bool) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    return value


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _csv_write(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside a JSON value (the manifest), except the file hashes."""
    out: list[tuple] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if prefix == () and k == "files":
                continue
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated(draw, members: dict[str, bytes]) -> bytes:
    """One to three mutations of the valid package, re-hashed."""
    files = dict(members)
    manifest: Any = json.loads(files["manifest.json"])
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["bytes", "cell", "header", "row", "plant", "manifest", "manifest-root", "json",
                                    "drop"]))
        if how == "bytes":
            name = draw(st.sampled_from(sorted(n for n in files if n != "manifest.json")))
            data = files[name]
            at = draw(st.integers(0, len(data)))
            cut = draw(st.integers(0, 8))
            files[name] = data[:at] + draw(st.binary(max_size=8)) + data[at + cut:]
        elif how in ("cell", "header", "row", "plant"):
            name = draw(st.sampled_from(["nodes.csv", "edges.csv"]))
            try:
                rows = _csv_rows(files[name])
            except (UnicodeDecodeError, csv.Error):
                continue
            if not rows:
                continue
            if how == "cell" and len(rows) > 1:
                r = draw(st.integers(1, len(rows) - 1))
                if rows[r]:
                    rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(texts)
            elif how == "header":
                op = draw(st.sampled_from(["rename", "duplicate", "extra", "drop", "upper"]))
                i = draw(st.integers(0, len(rows[0]) - 1))
                if op == "rename":
                    rows[0][i] = draw(texts)
                elif op == "duplicate":
                    rows[0].append(rows[0][i])
                    for row in rows[1:]:
                        row.append(draw(texts))
                elif op == "extra":
                    rows[0].append(draw(texts))
                    for row in rows[1:]:
                        row.append(draw(texts))
                elif op == "drop":
                    for row in rows:
                        del row[i:i + 1]
                else:
                    rows[0].append(rows[0][i].upper())
                    for row in rows[1:]:
                        row.append(draw(texts))
            elif how == "row" and len(rows) > 1:
                r = draw(st.integers(1, len(rows) - 1))
                rows[r] = rows[r][:draw(st.integers(0, len(rows[r])))] + draw(st.lists(texts, max_size=2))
            elif how == "plant":
                # a row of a label or type the model may not have (Alert, FLAGS, made-up ones)
                template = list(rows[draw(st.integers(1, len(rows) - 1))]) if len(rows) > 1 else [""] * len(rows[0])
                col = rows[0].index("label" if name == "nodes.csv" else "type") if ("label" in rows[0]
                                                                                   or "type" in rows[0]) else 0
                if template:
                    template[col] = draw(st.sampled_from(["Alert", "FLAGS", "Trader", "Nope", "", "[/]"]))
                rows.append(template)
            files[name] = _csv_write(rows)
        elif how == "manifest" and isinstance(manifest, dict):
            paths = _paths(manifest)
            path = draw(st.sampled_from(paths))
            target = manifest
            for k in path[:-1]:
                target = target[k]
            if isinstance(target, (dict, list)):
                target[path[-1]] = draw(st.one_of(json_values, st.builds(_deep, st.integers(50, 3000),
                                                                         st.booleans())))
        elif how == "manifest-root" and isinstance(manifest, dict):
            key = draw(st.sampled_from(["format_version", "redaction", "columns", "counts", "producer", "purpose",
                                        "marking", "seeds", "files", "format"]))
            manifest[key] = draw(json_values)
        elif how == "json":
            name = draw(st.sampled_from(["alerts.json", "entities.ftm.json"]))
            value = draw(st.one_of(json_values, st.builds(_deep, st.integers(50, 5000), st.booleans())))
            files[name] = json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")
        elif how == "drop":
            name = draw(st.sampled_from(sorted(n for n in files if n != "manifest.json")))
            del files[name]
            if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
                manifest["files"].pop(name, None)
    return rehash(files, manifest)


# ------------------------------------------------------------------------------ the tests
def test_the_unmutated_package_imports(setup):
    """The harness itself: the re-hashed, unmutated package imports with exit 0."""
    members = setup["members"]
    check_import(setup, rehash(dict(members), json.loads(members["manifest.json"])))


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_packages(setup, data):
    """Mutated, re-hashed packages: exit 0 or 2, no traceback, a refusal leaves the store as it was."""
    check_import(setup, data.draw(mutated(setup["members"])))
