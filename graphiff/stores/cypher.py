"""The one way graphiff reads Cypher: statements live in ``cypher/*.cypher`` (shipped inside the
package as ``graphiff/cypher``), never in Python strings.

A statement may name labels and relationship types through placeholders (``{label}``,
``{src}``, ``{dst}``, ``{type}``). They are filled only with names the graph model
(``graphiff/model/model.yaml``) knows, after checking they are plain identifiers; values are
always query parameters (``$rows``, ``$keys`` ...). A missing file, a placeholder left unfilled
or a name the model does not know raises :class:`graphiff.errors.GraphiffError`.

>>> from graphiff.stores.cypher import cypher
>>> "MERGE (n:Trader" in cypher("merge_nodes", label="Trader")
True
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from graphiff.errors import GraphiffError
from graphiff.model import model

#: placeholder -> what it may be filled with
PLACEHOLDERS = {"label": "node", "src": "node", "dst": "node", "type": "rel"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FILE = re.compile(r"^(examples/)?[a-z0-9_]+$")
_SLOT = re.compile(r"\{([a-z_]+)\}")


@lru_cache(maxsize=None)
def _text(name: str) -> str:
    stem = name[:-len(".cypher")] if name.endswith(".cypher") else name
    if not _FILE.match(stem):
        raise GraphiffError(f"bad Cypher file name {name!r}")
    node = resources.files("graphiff").joinpath("cypher", *stem.split("/")[:-1], stem.split("/")[-1] + ".cypher")
    try:
        return node.read_text("utf-8")
    except (FileNotFoundError, OSError):
        raise GraphiffError(f"Cypher file cypher/{stem}.cypher is missing from the graphiff package") from None


def _check(slot: str, value: str) -> str:
    kind = PLACEHOLDERS.get(slot)
    if kind is None:
        raise GraphiffError(f"unknown Cypher placeholder {{{slot}}}")
    if not isinstance(value, str) or not _NAME.match(value):
        raise GraphiffError(f"not a plain name for {{{slot}}}: {value!r}")
    m = model()
    if kind == "node":
        m.node(value)  # raises on a label the model does not know
    else:
        m.rel(value)
    return value


def cypher(name: str, **names: str) -> str:
    """The Cypher text of ``cypher/<name>.cypher`` with its placeholders filled.

    Parameters
    ----------
    name : str
        File name without (or with) ``.cypher``; ``examples/...`` for the example queries.
    **names : str
        ``label=``, ``src=``, ``dst=`` (node labels) and ``type=`` (relationship type), each
        checked against the graph model.

    Raises
    ------
    GraphiffError
        The file is missing, a placeholder in it has no value, a value is given for a
        placeholder it does not have, or a value is not a label/type of the model.
    """
    text = _text(name)
    for slot, value in names.items():
        _check(slot, value)
    used = set(_SLOT.findall(_strip_comments(text)))
    missing = used - set(names)
    if missing:
        raise GraphiffError(f"cypher/{name}: no value for placeholder(s) {sorted(missing)}")
    extra = set(names) - used
    if extra:
        raise GraphiffError(f"cypher/{name}: has no placeholder(s) {sorted(extra)}")
    return _SLOT.sub(lambda m: names[m.group(1)] if m.group(1) in names else m.group(0), text)


def statements(name: str, **names: str) -> list[str]:
    """The statements of a file holding several, split on ``;`` at the end of a line."""
    text = cypher(name, **names)
    parts = re.split(r";[ \t]*(?:\n|$)", text)
    return [p.strip() for p in parts if _strip_comments(p).strip()]


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())
