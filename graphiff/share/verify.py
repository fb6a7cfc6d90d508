"""Reading and verifying a sharing package before anything of it is used: the zip's directory
against the size and compression limits below, the manifest against its schema, and every file
against its size and SHA-256 in the manifest (docs/sharing.md, "Limits").

A hostile zip stays harmless: the limits are checked first on the sizes the zip's directory
declares (nothing is inflated for that), then again while each member is read in chunks, and
reading stops at the declared size; a zip bomb is refused in milliseconds without inflating it.
JSON (the manifest, ``alerts.json``, FtM lines) is parsed with a nesting-depth limit.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from graphiff.errors import PackageError
from graphiff.share.package import FILES, FORMAT, FORMAT_VERSION
from graphiff.share.redact import POLICIES

#: At most this many members in a package zip (a package has five).
MAX_MEMBERS = 16
#: The largest uncompressed member (256 MiB); split bigger exchanges into several packages.
MAX_MEMBER_BYTES = 256 << 20
#: The largest uncompressed package, all members together (512 MiB).
MAX_TOTAL_BYTES = 512 << 20
#: The largest manifest (1 MiB).
MAX_MANIFEST_BYTES = 1 << 20
#: The highest compression ratio (uncompressed / compressed size) of a member larger than
#: :data:`RATIO_FREE_BYTES`; real CSV and JSON compress about 5 to 20 times, a bomb 1,000 times.
MAX_RATIO = 100
#: Members up to this size (1 MiB) may have any compression ratio.
RATIO_FREE_BYTES = 1 << 20
#: The deepest nesting of arrays and objects in any JSON of a package.
MAX_JSON_DEPTH = 32
#: The longest manifest text field (producer, purpose, marking, ...), in characters.
MAX_TEXT = 2000
#: Members are read (and hashed) in chunks of this size.
CHUNK_BYTES = 1 << 20

#: The column kinds a manifest's ``columns`` may name.
COLUMN_KINDS = ("str", "int", "float", "bool")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def json_depth(value: Any) -> int:
    """The nesting depth of a parsed JSON value (a scalar is 0, ``[]`` 1, ``[[1]]`` 2), walked
    without recursion. Cost: O(number of values).

    >>> json_depth({"a": [1, {"b": []}]})
    4
    """
    deepest, todo = 0, [(value, 0)]
    while todo:
        v, d = todo.pop()
        if isinstance(v, (dict, list)):
            d += 1
            deepest = max(deepest, d)
            todo.extend((x, d) for x in (v.values() if isinstance(v, dict) else v))
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes | str, where: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON text from a package, refusing with :class:`PackageError` (naming ``where``)
    text that is not UTF-8 JSON, uses ``NaN``/``Infinity``, or nests deeper than ``max_depth``.
    Cost: one parse and one walk of the value.

    >>> parse_json(b'{"a": [1]}', "x.json")
    {'a': [1]}
    >>> parse_json(b'[[[1]]]', "x.json", max_depth=2)
    Traceback (most recent call last):
    graphiff.errors.PackageError: x.json nests deeper than 2 levels
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise PackageError(f"{where} nests deeper than {max_depth} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackageError(f"{where} is not valid JSON: {exc}") from None
    if json_depth(value) > max_depth:
        raise PackageError(f"{where} nests deeper than {max_depth} levels")
    return value


def check_text(value: Any, where: str, *, required: bool = False, limit: int = MAX_TEXT) -> str | None:
    """``value`` if it is acceptable text for a printed field: a string of at most ``limit``
    characters without control characters (tab and newline allowed); ``None`` when missing and
    not ``required``. Anything else raises :class:`PackageError` naming ``where``.

    >>> check_text("TLP:AMBER", "marking")
    'TLP:AMBER'
    """
    if value is None or value == "":
        if required:
            raise PackageError(f"{where} is missing")
        return None
    if not isinstance(value, str):
        raise PackageError(f"{where} must be text, not {type(value).__name__}")
    if len(value) > limit:
        raise PackageError(f"{where} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise PackageError(f"{where} holds control characters")
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PackageError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PackageError(f"{where} must be a whole number >= 0, not {value!r}"[:300])
    return value


def _counts(value: Any, where: str) -> None:
    for k, v in _mapping(value, where).items():
        check_text(k, f"{where} name", required=True, limit=200)
        _count(v, f"{where}[{k!r}]")


def check_manifest(manifest: Any, pkg: str) -> dict[str, Any]:
    """Check a parsed manifest against the package manifest schema; return it.

    Required: ``format`` (``graphiff-package``), ``format_version`` (a whole number from 1 to
    :data:`FORMAT_VERSION`), ``producer``, ``purpose``, ``marking`` (text), ``redaction`` (a
    mapping whose ``policy`` is one of the redaction policies) and ``files`` (a mapping of
    package file names to ``{"sha256": 64 hex digits, "size": bytes}``). When present,
    ``created``, ``title``, ``graphiff_version``, ``recipient``, ``legal_basis``, ``case`` are
    text, ``seeds`` a list of text, ``omitted``
    and ``counts`` whole-number counts, and ``columns`` a mapping ``{"nodes"|"edges": {name:
    {column: kind}}}``. Other fields are ignored. Anything else raises :class:`PackageError`
    naming the field. Cost: one walk of the manifest.
    """
    where = f"package {pkg}: manifest.json"
    m = _mapping(manifest, where)
    if m.get("format") != FORMAT:
        raise PackageError(f"{where} is not a graphiff package manifest (format {m.get('format')!r:.80})")
    version = m.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise PackageError(f"{where}: format_version must be a whole number, not {version!r:.80}")
    if version > FORMAT_VERSION:
        raise PackageError(f"package {pkg} has format version {version}; this graphiff reads up to "
                           f"{FORMAT_VERSION} (upgrade graphiff)")
    if version < 1:
        raise PackageError(f"{where}: format_version {version} is not a package format version")
    for name in ("producer", "purpose", "marking"):
        check_text(m.get(name), f"{where}: {name}", required=True)
    for name in ("created", "title", "graphiff_version", "recipient", "legal_basis", "case"):
        check_text(m.get(name), f"{where}: {name}")
    red = _mapping(m.get("redaction"), f"{where}: redaction")
    if red.get("policy") not in POLICIES:
        raise PackageError(f"{where}: redaction policy {red.get('policy')!r:.80} is not one of "
                           f"{', '.join(POLICIES)}")
    for name in ("key_id", "method"):
        check_text(red.get(name), f"{where}: redaction {name}")
    seeds = m.get("seeds", [])
    if not isinstance(seeds, list):
        raise PackageError(f"{where}: seeds must be a list, not {type(seeds).__name__}")
    for s in seeds:
        check_text(s, f"{where}: a seed", required=True)
    if m.get("omitted") is not None:
        _counts(m["omitted"], f"{where}: omitted")
    if m.get("counts") is not None:
        counts = _mapping(m["counts"], f"{where}: counts")
        for part in ("nodes", "relationships", "entities"):
            if counts.get(part) is not None:
                _counts(counts[part], f"{where}: counts {part}")
        if counts.get("alerts") is not None:
            _count(counts["alerts"], f"{where}: counts alerts")
    columns = _mapping(m.get("columns") or {}, f"{where}: columns")
    for part, by_name in columns.items():
        if part not in ("nodes", "edges"):
            raise PackageError(f"{where}: columns has {part!r:.80}; only nodes and edges")
        for name, cols in _mapping(by_name, f"{where}: columns {part}").items():
            for col, kind in _mapping(cols, f"{where}: columns {part} {name!r:.80}").items():
                if kind not in COLUMN_KINDS:
                    raise PackageError(f"{where}: columns: {col!r:.80} of {name!r:.80} has kind {kind!r:.80}; "
                                       f"kinds are {', '.join(COLUMN_KINDS)}")
    files = _mapping(m.get("files"), f"{where}: files")
    if not files:
        raise PackageError(f"{where}: files lists no file")
    for fname, meta in files.items():
        if fname not in FILES:
            raise PackageError(f"{where}: files lists {fname!r:.80}, not a package file "
                               f"({', '.join(FILES)})")
        meta = _mapping(meta, f"{where}: files {fname}")
        if not isinstance(meta.get("sha256"), str) or not _SHA256.match(meta["sha256"]):
            raise PackageError(f"{where}: manifest entry of {fname} has no valid sha256")
        size = meta.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise PackageError(f"{where}: manifest entry of {fname} has no valid size")
    return m


def _check_directory(infos: list[zipfile.ZipInfo], pkg: str) -> None:
    """The limits checked on the sizes the zip's directory declares (nothing is inflated)."""
    if len(infos) > MAX_MEMBERS:
        raise PackageError(f"package {pkg} holds {len(infos)} files; a package holds at most {MAX_MEMBERS}")
    total = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise PackageError(f"package {pkg}: {name} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise PackageError(f"package {pkg}: {name} uses a compression other than deflate")
        limit = MAX_MANIFEST_BYTES if name == "manifest.json" else MAX_MEMBER_BYTES
        if info.file_size > limit:
            raise PackageError(f"package {pkg}: {name} expands to {info.file_size:,} bytes; the limit is "
                               f"{limit:,} (docs/sharing.md, Limits)")
        if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PackageError(f"package {pkg}: {name} expands {info.file_size // max(info.compress_size, 1):,} "
                               f"times ({info.file_size:,} bytes); the limit is {MAX_RATIO} (a zip bomb?)")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise PackageError(f"package {pkg} expands to more than {MAX_TOTAL_BYTES:,} bytes "
                               "(docs/sharing.md, Limits)")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int, pkg: str) -> tuple[bytes, str]:
    """The member's bytes and SHA-256, read in chunks; never more than ``size`` + 1 bytes are
    inflated (a member longer than ``size`` is refused)."""
    h = hashlib.sha256()
    parts: list[bytes] = []
    got = 0
    try:
        with zf.open(info) as fh:
            while got <= size:
                chunk = fh.read(min(CHUNK_BYTES, size + 1 - got))
                if not chunk:
                    break
                got += len(chunk)
                if got > size:
                    break
                h.update(chunk)
                parts.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError) as exc:
        raise PackageError(f"package {pkg}: {info.filename} is damaged (tampered or truncated): {exc}") from None
    if got != size:
        raise PackageError(f"package {pkg}: {info.filename} has {'more than ' if got > size else ''}{got:,} bytes, "
                           f"the manifest says {size:,} (truncated or tampered)")
    return b"".join(parts), h.hexdigest()


def read_package(path: str | Path) -> tuple[dict[str, Any], bytes, dict[str, bytes]]:
    """Open and verify a package: ``(manifest, manifest bytes, {file name: bytes})``.

    The zip's directory is checked against the limits (member count, each member's and the
    total uncompressed size, compression ratio; module constants), the manifest against its
    schema (:func:`check_manifest`); every file must be listed in the manifest with its size and
    SHA-256, and every listed file must be there with exactly that size and hash. Anything else
    (a bad or truncated zip, a bomb, a tampered, missing or extra file, a malformed manifest)
    raises :class:`PackageError` naming the problem. Cost: each member inflated once, in
    chunks, never beyond its declared size.
    """
    path = Path(path)
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackageError(f"package {name}: no such file") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise PackageError(f"package {name} is not a readable zip file (damaged or truncated?): {exc}") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PackageError(f"package {name} holds the same file twice: {', '.join(dupes)}")
        if "manifest.json" not in names:
            raise PackageError(f"package {name} has no manifest.json (not a graphiff package?)")
        _check_directory(infos, name)
        by_name = {i.filename: i for i in infos}
        manifest_info = by_name["manifest.json"]
        manifest_bytes, _ = _read_member(zf, manifest_info, manifest_info.file_size, name)
        manifest = check_manifest(parse_json(manifest_bytes, f"package {name}: manifest.json"), name)
        listed: dict[str, Any] = manifest["files"]
        extra = sorted(set(names) - set(listed) - {"manifest.json"})
        if extra:
            raise PackageError(f"package {name} holds file(s) its manifest does not list: {', '.join(extra)}")
        missing = sorted(set(listed) - set(names))
        if missing:
            raise PackageError(f"package {name} is missing file(s) its manifest lists: {', '.join(missing)}")
        for fname, meta in sorted(listed.items()):
            if meta["size"] != by_name[fname].file_size:
                raise PackageError(f"package {name}: {fname} holds {by_name[fname].file_size:,} bytes, the manifest "
                                   f"says {meta['size']:,} (truncated or tampered)")
        files: dict[str, bytes] = {}
        for fname, meta in sorted(listed.items()):
            data, digest = _read_member(zf, by_name[fname], meta["size"], name)
            if not hmac.compare_digest(digest, meta["sha256"].lower()):
                raise PackageError(f"package {name}: {fname} does not match its SHA-256 in the manifest (tampered)")
            files[fname] = data
    if not ({"nodes.csv", "edges.csv"} <= set(files) or "entities.ftm.json" in files):
        raise PackageError(f"package {name} has neither nodes.csv/edges.csv nor entities.ftm.json")
    return manifest, manifest_bytes, files


__all__ = ["read_package", "check_manifest", "check_text", "parse_json", "json_depth", "MAX_MEMBERS",
           "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_MANIFEST_BYTES", "MAX_RATIO", "RATIO_FREE_BYTES",
           "MAX_JSON_DEPTH", "MAX_TEXT", "COLUMN_KINDS"]
