"""``GET /api/search``: names and identifiers."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from graphiff.workbench.auth import Reader
from graphiff.workbench.deps import SnapshotDep
from graphiff.workbench.models import SearchAnswer
from graphiff.workbench.views import id_list

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", response_model=SearchAnswer)
def search(caller: Reader, snap: SnapshotDep,
           q: str = Query(..., description="A name or an identifier (typos allowed)."),
           types: list[str] = Query([], description="Labels to search (comma-separated or repeated)."),
           limit: int = Query(20, ge=1, le=200)) -> dict[str, Any]:
    """Entities whose names or identifiers match ``q``, best first."""
    hits = snap.search.search(q, types=id_list(types) or None, limit=limit)
    caller.log("search", ids=[h.id for h in hits], detail={"query": q[:200], "types": id_list(types)} if types
               else {"query": q[:200]})
    return {"query": q, "results": [{"id": h.id, "label": h.label, "caption": h.caption,
                                     "score": max(0.0, min(1.0, float(h.score))), "matched": list(h.matched)}
                                    for h in hits]}
