"""Reading and verifying a sharing package: the manifest, every file's size and SHA-256, and
the limits that keep a hostile zip harmless (no member larger than its manifest says, none
over :data:`MAX_FILE_BYTES`, no duplicate, missing or unlisted member).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from graphiff.errors import PackageError
from graphiff.share.package import FORMAT, FORMAT_VERSION

#: Members claiming more than this (2 GiB) are refused.
MAX_FILE_BYTES = 2 << 30
#: The largest manifest read (64 MiB).
MAX_MANIFEST_BYTES = 64 << 20


def read_package(path: str | Path) -> tuple[dict[str, Any], bytes, dict[str, bytes]]:
    """Open and verify a package: ``(manifest, manifest bytes, {file name: bytes})``.

    Every file must be listed in the manifest with its size and SHA-256, and every listed file
    must be there; anything else (a bad or truncated zip, a tampered, missing or extra file)
    raises :class:`PackageError` naming the problem.
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

        def read(info: zipfile.ZipInfo, limit: int) -> bytes:
            if info.file_size > limit:
                raise PackageError(f"package {name}: {info.filename} is larger than its manifest says "
                                   f"({info.file_size} > {limit} bytes)")
            try:
                with zf.open(info) as fh:
                    return fh.read(limit + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                raise PackageError(
                    f"package {name}: {info.filename} is damaged (tampered or truncated): {exc}") from None

        by_name = {i.filename: i for i in infos}
        manifest_bytes = read(by_name["manifest.json"], MAX_MANIFEST_BYTES)
        try:
            manifest = json.loads(manifest_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PackageError(f"package {name}: manifest.json is not valid JSON: {exc}") from None
        if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
                or not isinstance(manifest.get("files"), dict)):
            raise PackageError(f"package {name}: manifest.json is not a graphiff package manifest")
        if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise PackageError(f"package {name} has format version {manifest.get('format_version')}; this graphiff "
                               f"reads up to {FORMAT_VERSION} (upgrade graphiff)")
        listed: dict[str, Any] = manifest["files"]
        extra = sorted(set(names) - set(listed) - {"manifest.json"})
        if extra:
            raise PackageError(f"package {name} holds file(s) its manifest does not list: {', '.join(extra)}")
        missing = sorted(set(listed) - set(names))
        if missing:
            raise PackageError(f"package {name} is missing file(s) its manifest lists: {', '.join(missing)}")
        files: dict[str, bytes] = {}
        for fname, meta in sorted(listed.items()):
            try:
                size, digest = int(meta["size"]), str(meta["sha256"]).lower()
            except (KeyError, TypeError, ValueError):
                raise PackageError(f"package {name}: manifest entry of {fname} has no size/sha256") from None
            data = read(by_name[fname], min(size, MAX_FILE_BYTES))
            if len(data) != size:
                raise PackageError(f"package {name}: {fname} has {len(data)} bytes, the manifest says {size} "
                                   "(truncated or tampered)")
            if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), digest):
                raise PackageError(f"package {name}: {fname} does not match its SHA-256 in the manifest (tampered)")
            files[fname] = data
    if not ({"nodes.csv", "edges.csv"} <= set(files) or "entities.ftm.json" in files):
        raise PackageError(f"package {name} has neither nodes.csv/edges.csv nor entities.ftm.json")
    return manifest, manifest_bytes, files


__all__ = ["read_package", "MAX_FILE_BYTES"]
