"""Reading the workbench's answers in tests: a success's JSON, or an error's one sentence."""
from __future__ import annotations

from typing import Any


def ok(r: Any, status: int = 200) -> Any:
    """The JSON of an answer that must have ``status`` (the body in the failure message)."""
    assert r.status_code == status, r.text
    return r.json()


def error(r: Any, status: int) -> str:
    """The message of an error answer: ``status`` and a body that is exactly ``{"error": text}``."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    return body["error"]
