"""How one value is written out: JSON-friendly scalars, XML-safe text, spreadsheet-safe cells.

Every export (charts, packages, quarantine files, explore output) writes values through these
functions, so a value looks the same everywhere and a hostile value (``=HYPERLINK(...)``, a
control character) is neutralised in one place.

>>> print(safe_cell('=HYPERLINK("http://x")'))
'=HYPERLINK("http://x")
>>> safe_cell(-12.5), plain_value(float("nan"))
('-12.5', None)
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
from decimal import Decimal
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# characters XML 1.0 forbids (C0 controls except tab/newline/CR, U+FFFE/U+FFFF) and surrogates
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def safe_cell(value: Any) -> str:
    """A value as a spreadsheet-safe text cell (for CSV and similar exports).

    ``None`` -> ``""``; numbers as they are; a string that a spreadsheet would read as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, a tab or a line break) gets a leading single quote,
    so ``=HYPERLINK("http://x")`` stays text. Plain numbers such as ``-12.5`` are left alone.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return "" if isinstance(value, float) and math.isnan(value) else str(value)
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def clean_text(value: Any) -> str:
    """``value`` as text that any XML file can carry (illegal control characters removed)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():          # fast path: no control character, no surrogate
        return text
    return _XML_ILLEGAL.sub("", text)


#: the Unicode direction controls (marks, embeddings, overrides, isolates)
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def drawn_text(value: Any) -> str:
    """``value`` as text drawn in a picture or shown to a reader: :func:`clean_text`, with the
    Unicode direction controls written out (``[U+202E]``), so a name holding a RIGHT-TO-LEFT
    OVERRIDE cannot turn the text after it around (the workbench page does the same).

    >>> drawn_text("Acme\u202eLtd")
    'Acme[U+202E]Ltd'
    """
    return _BIDI.sub(lambda m: f"[U+{ord(m.group(0)):04X}]", clean_text(value))


def plain_value(value: Any) -> str | int | float | bool | None:
    """A property value as a JSON/XML-friendly scalar; ``None`` for missing values.

    NaN/NaT/None -> ``None``; numpy scalars -> Python numbers; dates -> ISO strings; lists and
    dicts -> JSON text; anything else -> ``str``.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return plain_value(float(value))
    if isinstance(value, (_dt.datetime, _dt.date)):
        try:
            return value.isoformat()
        except ValueError:   # NaT
            return None
    if isinstance(value, (list, tuple, set, dict)):
        return json.dumps(sorted(value, key=str) if isinstance(value, set) else value,
                          ensure_ascii=False, default=str)
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    item = getattr(value, "item", None)          # numpy scalar
    if callable(item):
        try:
            return plain_value(item())
        except (TypeError, ValueError):
            pass
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def clean_props(props: dict[str, Any] | None) -> dict[str, str | int | float | bool]:
    """``props`` with every value made plain and missing values (None, NaN) dropped."""
    out: dict[str, str | int | float | bool] = {}
    for k, v in (props or {}).items():
        pv = plain_value(v)
        if pv is not None:
            out[str(k)] = pv
    return out
