"""Team keys for pseudonymisation: making one, reading one, and refusing weak ones.

A team key is the secret under which :mod:`graphiff.share.redact` pseudonymises personal
identifiers (``psn-`` + HMAC-SHA256). Anyone holding it can test guesses ("is ``psn-...`` person
P0001924?"), and ids are easy to enumerate, so the key must be impossible to guess:

- :func:`write_key_file` (``graphiff keygen --out team.key``) writes 32 random bytes from
  :mod:`secrets`, base64 encoded, with a random public *key id* on a comment line, mode 0600;
- :func:`check_key` refuses keys shorter than :data:`MIN_KEY_BYTES` or with less than
  :data:`MIN_KEY_BITS` bits of estimated entropy (:func:`estimate_bits`);
- the package manifest names the key by that random id (or ``"unnamed"``), never by anything
  computed from the key, so a package offers nothing to test key guesses against offline.

Key file format (what keygen writes; a file holding only the key, such as an older hex key, is
read too)::

    # graphiff team key: keep it secret; exchange it out of band, never with a package
    # key-id: gk-3f9c0a1b2d4e5f60
    q2v6T0x5...base64...=

The HMAC key is the key line's bytes as written (not base64-decoded), so a key reads the same
from the file and from ``$GRAPHIFF_PACKAGE_KEY`` (which may hold the key line or the whole file).
"""
from __future__ import annotations

import base64
import math
import os
import re
import secrets
import shlex
import stat
from collections import Counter
from pathlib import Path

from graphiff.errors import PackageError

#: The environment variable holding the team key (the key line or a whole key file) when no key file is given.
KEY_ENV = "GRAPHIFF_PACKAGE_KEY"
#: The shortest team key accepted, in bytes.
MIN_KEY_BYTES = 32
#: The least estimated entropy of an accepted team key, in bits.
MIN_KEY_BITS = 128
#: What the manifest says when the key carries no id (a key not made by keygen).
UNNAMED = "unnamed"
#: How keygen makes a key: this many random bytes.
KEY_BYTES = 32

_ID_RE = re.compile(r"^#\s*key-id:\s*(\S+)\s*$", re.IGNORECASE)
_HEX = frozenset(b"0123456789abcdef")
_HEX_UPPER = frozenset(b"0123456789ABCDEF")
_HOW = "make one with `graphiff keygen --out team.key`"


class TeamKey(bytes):
    """A team key (its bytes are the HMAC key) with its public ``key_id`` (``None`` when the key
    file names none). Behaves as ``bytes`` everywhere else."""

    key_id: str | None

    def __new__(cls, data: bytes, key_id: str | None = None) -> "TeamKey":
        obj = super().__new__(cls, data)
        obj.key_id = key_id
        return obj


def _alphabet(key: bytes) -> int:
    """The size of the smallest usual alphabet the bytes of ``key`` come from (hex, or the union
    of the character classes present: lower, upper, digits, ASCII punctuation, other bytes)."""
    present = set(key)
    if present <= _HEX or present <= _HEX_UPPER:
        return 16
    size = 0
    if any(97 <= b <= 122 for b in present):
        size += 26
    if any(65 <= b <= 90 for b in present):
        size += 26
    if any(48 <= b <= 57 for b in present):
        size += 10
    if any(32 <= b <= 126 and not chr(b).isalnum() for b in present):
        size += 33
    if any(b < 32 or b > 126 for b in present):
        size += 161
    return size


def _period(key: bytes) -> bytes:
    """The shortest unit ``key`` repeats (``key`` itself when it does not repeat)."""
    n = len(key)
    for p in range(1, n // 2 + 1):
        if all(key[i] == key[i - p] for i in range(p, n)):
            return key[:p]
    return key


def estimate_bits(key: bytes) -> float:
    """Estimated entropy of ``key`` in bits: its length (of the repeating unit, for a key that
    repeats itself) times the smaller of the bits per symbol of its alphabet (hex, or the
    character classes present) and the empirical Shannon entropy of its bytes. An honest upper
    estimate for random keys (keygen's keys score about 190 or more); it catches short,
    repetitive and low-variety keys, but cannot tell a guessable phrase from random text.
    Cost: linear in the key length (quadratic for the repetition check on short keys).

    >>> estimate_bits(b"aaaaaaaaaaaaaaaa"), estimate_bits(b"abab" * 16)
    (0.0, 2.0)
    >>> estimate_bits(bytes(range(48, 80))) >= 128       # 32 different symbols
    True
    """
    key = _period(bytes(key))
    n = len(key)
    if not n:
        return 0.0
    shannon = -sum(c / n * math.log2(c / n) for c in Counter(key).values())
    return round(n * min(math.log2(_alphabet(key)), shannon), 1) + 0.0


def check_key(key: bytes | None, *, required: bool = False) -> None:
    """Refuse an unusable team ``key`` with a :class:`PackageError` saying why and how to make a
    good one: not bytes, shorter than :data:`MIN_KEY_BYTES`, with less than :data:`MIN_KEY_BITS`
    bits of estimated entropy (:func:`estimate_bits`), or missing when ``required``.

    >>> check_key(None)
    >>> check_key(b"short")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphiff.errors.PackageError: the team key is too short (5 bytes; at least 32 needed): make one with ...
    >>> check_key(b"a" * 40)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphiff.errors.PackageError: the team key is too weak (about 0 bits of estimated entropy; at least 128 ...
    """
    if key is not None and not isinstance(key, (bytes, bytearray)):
        raise PackageError("the team key must be bytes")
    if key is not None and len(key) < MIN_KEY_BYTES:
        raise PackageError(f"the team key is too short ({len(key)} bytes; at least {MIN_KEY_BYTES} needed): {_HOW}")
    if key is not None and (bits := estimate_bits(bytes(key))) < MIN_KEY_BITS:
        raise PackageError(f"the team key is too weak (about {bits:.0f} bits of estimated entropy; at least "
                           f"{MIN_KEY_BITS} needed): {_HOW}")
    if required and not key:
        raise PackageError(f"pseudonymisation needs the team key: give --key-file FILE or set {KEY_ENV} ({_HOW})")


def parse_key(data: bytes, where: str) -> TeamKey:
    """The team key in ``data`` (a key file's content, or ``$GRAPHIFF_PACKAGE_KEY``): the one line
    that is not blank or a ``#`` comment, with the id of a ``# key-id: ...`` comment. Content that
    is not UTF-8 text is taken whole (surrounding whitespace dropped) as a binary key. The key is
    checked with :func:`check_key`; ``where`` names the source in messages.

    >>> k = parse_key(b"# key-id: gk-0011223344556677\\nq2v6T0x5KcLm8RzWbYp3NfHd9JsAeUo1Gt4Ri7Vj\\n", "team.key")
    >>> k.key_id, len(k)
    ('gk-0011223344556677', 40)
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        key, key_id = data.strip(), None
    else:
        lines = [ln.strip() for ln in text.splitlines()]
        ids = [m.group(1) for ln in lines if (m := _ID_RE.match(ln))]
        body = [ln for ln in lines if ln and not ln.startswith("#")]
        if not body:
            raise PackageError(f"{where} holds no key ({_HOW})")
        if len(body) > 1:
            raise PackageError(f"{where} holds {len(body)} lines that are not comments; a key file holds one key line")
        key, key_id = body[0].encode("utf-8"), (ids[0] if ids else None)
    if not key:
        raise PackageError(f"{where} is empty ({_HOW})")
    try:
        check_key(key)
    except PackageError as exc:
        raise PackageError(f"{where}: {exc}") from None
    return TeamKey(key, key_id)


def read_key(key_file: str | Path | None = None, *, env: bool = True) -> TeamKey | None:
    """The team key from ``key_file``, else from ``$GRAPHIFF_PACKAGE_KEY`` (when ``env``), else
    ``None``; read by :func:`parse_key`, so a weak or malformed key is refused
    (:class:`PackageError`). Cost: one small file read."""
    if key_file is not None:
        try:
            data = Path(key_file).read_bytes()
        except OSError as exc:
            raise PackageError(f"cannot read key file {key_file}: {exc.strerror or exc}") from None
        return parse_key(data, f"key file {key_file}")
    if env and os.environ.get(KEY_ENV, "").strip():
        return parse_key(os.environ[KEY_ENV].encode("utf-8"), f"${KEY_ENV}")
    return None


def key_file_warning(key_file: str | Path | None) -> str | None:
    """A warning when ``key_file`` may be read by other users of this machine (its mode lets
    group or others read it, e.g. 0644), else ``None`` (also for no file, or where file modes
    say nothing, as on Windows). The library prints nothing: the CLI shows this line.

    >>> key_file_warning(None) is None
    True
    """
    if key_file is None or os.name == "nt":
        return None
    try:
        mode = Path(key_file).stat().st_mode
    except OSError:
        return None
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return None
    return f"{key_file} can be read by other users of this machine: chmod 600 {shlex.quote(str(key_file))}"


def new_key() -> TeamKey:
    """A new team key: :data:`KEY_BYTES` random bytes from :mod:`secrets`, base64 encoded, with a
    random public id (``gk-`` + 16 hex digits, unrelated to the key).

    >>> k = new_key()
    >>> len(k), k.key_id.startswith("gk-"), estimate_bits(k) >= 128
    (44, True, True)
    """
    return TeamKey(base64.b64encode(secrets.token_bytes(KEY_BYTES)), "gk-" + secrets.token_hex(8))


def key_file_text(key: TeamKey) -> str:
    """What a key file holding ``key`` says (comment lines, then the key line)."""
    return ("# graphiff team key: keep it secret; exchange it out of band, never with a package\n"
            f"# key-id: {key.key_id}\n{bytes(key).decode('ascii')}\n")


def write_key_file(out: str | Path, *, force: bool = False) -> TeamKey:
    """Make a new key (:func:`new_key`) and write it to ``out`` with mode 0600 (readable by its
    owner only). An existing ``out`` is refused unless ``force`` (overwriting a key makes every
    later pseudonym differ from the earlier packages'). Returns the key."""
    out = Path(out)
    if out.is_dir():
        raise PackageError(f"{out} is a folder; give the key file's name")
    if out.exists() and not force:
        raise PackageError(f"{out} exists; a new key would replace it (give --force to overwrite)")
    key = new_key()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key_file_text(key))
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except OSError as exc:
        raise PackageError(f"cannot write key file {out}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return key


def manifest_key_id(key: bytes | None) -> str | None:
    """What the manifest says about ``key``: its random id, :data:`UNNAMED` for a key without
    one, ``None`` for no key. Never anything computed from the key itself.

    >>> manifest_key_id(None), manifest_key_id(b"x" * 40), manifest_key_id(TeamKey(b"x" * 40, "gk-1"))
    (None, 'unnamed', 'gk-1')
    """
    if not key:
        return None
    return getattr(key, "key_id", None) or UNNAMED


__all__ = ["TeamKey", "KEY_ENV", "MIN_KEY_BYTES", "MIN_KEY_BITS", "UNNAMED", "estimate_bits", "check_key",
           "parse_key", "read_key", "key_file_warning", "new_key", "key_file_text", "write_key_file", "manifest_key_id"]
