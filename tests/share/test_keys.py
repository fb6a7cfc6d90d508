"""Team keys (issue: "Weak team keys"): keygen writes 32 random bytes, weak keys are refused,
and the manifest names a key without offering a hash of it to test guesses against."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from graphiff.errors import PackageError
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.share.importer import import_package
from graphiff.share.keys import (
    UNNAMED,
    TeamKey,
    check_key,
    estimate_bits,
    parse_key,
    read_key,
    write_key_file,
)
from graphiff.share.package import make_package
from graphiff.share.verify import read_package
from graphiff.stores import open_store


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("GRAPHIFF_PACKAGE_KEY", "GRAPHIFF_STORE")}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True, env=e)


def _sub() -> Subgraph:
    person = {"person_id": "P0001924", "name": "Ann Example", "nationality": "GB"}
    return Subgraph(nodes=[SubNode("Person:P0001924", "Person", "P0001924", "Ann Example", person),
                           SubNode("Trader:T1", "Trader", "T1", "Acme", {"trader_id": "T1", "name": "Acme"})],
                    edges=[SubEdge("e", "Person:P0001924", "Trader:T1", "OFFICER_OF", {"role": "DIRECTOR"})],
                    seeds=["Trader:T1"], title="T1")


def _package(tmp_path: Path, key: bytes, name: str = "p.zip") -> tuple[Path, dict]:
    out = tmp_path / name
    m = make_package(_sub(), out, purpose="op", marking="TLP:AMBER", producer="Team A", redact="pseudonymise", key=key)
    return out, m


def test_keygen_writes_32_random_bytes_mode_0600(tmp_path):
    out = tmp_path / "team.key"
    r = _cli("keygen", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    key = read_key(out)
    assert key is not None and len(base64.b64decode(bytes(key), validate=True)) == 32
    assert key.key_id == info["key_id"] and key.key_id.startswith("gk-")
    assert bytes(key).decode() not in r.stdout + r.stderr             # the key is never printed
    # refuses to overwrite without --force; --force makes a different key
    r2 = _cli("keygen", "--out", str(out))
    assert r2.returncode == 2 and "--force" in r2.stderr and "Traceback" not in r2.stderr
    assert read_key(out) == key
    assert _cli("keygen", "--out", str(out), "--force").returncode == 0
    again = read_key(out)
    assert again != key and again.key_id != key.key_id
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_keygen_keys_differ_and_pass_the_check(tmp_path):
    keys = {bytes(write_key_file(tmp_path / f"k{i}.key")) for i in range(20)}
    assert len(keys) == 20
    assert min(estimate_bits(k) for k in keys) >= 128


@pytest.mark.parametrize("weak, why", [
    (b"aaaaaaaaaaaaaaaa", "too short"),                  # the key of the issue: 16 bytes, no variety
    (b"a" * 64, "too weak"),
    (b"ab" * 32, "too weak"),
    (b"0123456789" * 4, "too weak"),                     # a repeated run
    (secrets.token_hex(8).encode(), "too short"),
    (b"password-password-password-passw", "too weak"),
])
def test_weak_keys_refused(tmp_path, weak, why):
    with pytest.raises(PackageError, match=why) as err:
        check_key(weak)
    assert "graphiff keygen" in str(err.value)
    f = tmp_path / "weak.key"
    f.write_bytes(weak + b"\n")
    with pytest.raises(PackageError, match=why):
        read_key(f)
    with pytest.raises(PackageError, match=why):
        _package(tmp_path, weak)
    assert not (tmp_path / "p.zip").exists()


def test_cli_refuses_a_weak_key(tmp_path):
    f = tmp_path / "weak.key"
    f.write_text("aaaaaaaaaaaaaaaa\n")
    r = _cli("package", "--seed", "Trader:T1", "--purpose", "op", "--marking", "TLP:RED", "--out",
             str(tmp_path / "p.zip"), "--store", str(tmp_path / "s.duckdb"), "--key-file", str(f))
    assert r.returncode == 2 and "keygen" in r.stderr and "Traceback" not in r.stderr
    r = _cli("package", "--seed", "Trader:T1", "--purpose", "op", "--marking", "TLP:RED", "--out",
             str(tmp_path / "p.zip"), "--store", str(tmp_path / "s.duckdb"), env={"GRAPHIFF_PACKAGE_KEY": "a" * 40})
    assert r.returncode == 2 and "too weak" in r.stderr
    assert not (tmp_path / "p.zip").exists()


def test_good_keys_accepted(tmp_path):
    hexkey = secrets.token_hex(32).encode()               # what docs/sharing.md used to suggest
    f = tmp_path / "old.key"
    f.write_bytes(hexkey + b"\n")
    k = read_key(f)
    assert k == hexkey and k.key_id is None
    raw = secrets.token_bytes(32)
    (tmp_path / "raw.key").write_bytes(raw)
    if raw.strip() == raw:
        assert read_key(tmp_path / "raw.key") == raw
    # the key file (comments, key id) may also be given whole through the environment
    kf = tmp_path / "team.key"
    made = write_key_file(kf)
    os.environ["GRAPHIFF_PACKAGE_KEY"] = kf.read_text()
    try:
        got = read_key(None)
    finally:
        del os.environ["GRAPHIFF_PACKAGE_KEY"]
    assert got == made and got.key_id == made.key_id
    with pytest.raises(PackageError, match="one key line"):
        parse_key(b"abc\ndef\n", "two.key")
    with pytest.raises(PackageError, match="holds no key"):
        parse_key(b"# key-id: gk-1\n\n", "empty.key")


def test_manifest_names_the_key_without_a_hash_of_it(tmp_path):
    made = write_key_file(tmp_path / "team.key")
    key = read_key(tmp_path / "team.key")
    out, m = _package(tmp_path, key)
    assert m["redaction"]["key_id"] == made.key_id
    blob = b"".join(zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist())
    old_id = hashlib.sha256(b"graphiff-package-key-id:" + bytes(key)).hexdigest()[:12]
    assert old_id.encode() not in blob
    for digest in (hashlib.sha256(bytes(key)).hexdigest(), hashlib.sha1(bytes(key)).hexdigest(),
                   hashlib.md5(bytes(key)).hexdigest()):
        assert digest[:8].encode() not in blob
    # a key without an id (an older key, or bytes from Python) is named "unnamed", never hashed
    plain = secrets.token_hex(32).encode()
    _, m2 = _package(tmp_path, plain, "q.zip")
    assert m2["redaction"]["key_id"] == UNNAMED
    # the same key under two ids: same pseudonyms (the id is a label, not part of the key)
    _, m3 = _package(tmp_path, TeamKey(bytes(key), "gk-other"), "r.zip")
    nodes = [zipfile.ZipFile(tmp_path / n).read("nodes.csv") for n in ("p.zip", "r.zip")]
    assert nodes[0] == nodes[1] and m3["redaction"]["key_id"] == "gk-other"


def _rewrite_manifest(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "manifest.json":
                m = json.loads(data)
                change(m)
                data = json.dumps(m).encode()
            zout.writestr(name, data)


def test_packages_with_the_old_key_id_or_none_still_verify(tmp_path):
    key = write_key_file(tmp_path / "team.key")
    out, _ = _package(tmp_path, key)
    old = tmp_path / "old.zip"           # a package of an older graphiff: key_id = a hash of the key
    _rewrite_manifest(out, old, lambda m: m["redaction"].update(key_id="8bc5b82d0118"))
    bare = tmp_path / "bare.zip"         # no key_id field at all
    _rewrite_manifest(out, bare, lambda m: m["redaction"].pop("key_id"))
    for p in (old, bare):
        assert read_package(p)[0]["redaction"]["policy"] == "pseudonymise"
    with open_store(str(tmp_path / "partner.duckdb")) as st:
        result = import_package(st, old)
        assert result["redaction"] == "pseudonymise"
