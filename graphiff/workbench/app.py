"""The workbench application: ``create_app`` wires the routers, error handling, security and
static files around one :class:`~graphiff.workbench.snapshot.SnapshotHolder`, the store's case
book, sign-in (:mod:`.auth`) and the audit writer (:mod:`.audit_log`).

Run it with ``graphiff serve`` (uvicorn); tests use ``fastapi.testclient.TestClient(create_app(uri))``
with ``base_url="http://127.0.0.1"`` (the host check refuses other names), and call
``app.state.close()`` when done.
"""
from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from graphiff.casework.users import os_user_name
from graphiff.errors import AccessDenied, GraphiffError, LoginRequired, NotFound, StoreError
from graphiff.share.keys import read_key
from graphiff.stores import open_book
from graphiff.workbench.audit_log import AuditWriter
from graphiff.workbench.auth import Auth
from graphiff.workbench.deps import Settings
from graphiff.workbench.routes import alerts, cases, export, graph, meta, search, session
from graphiff.workbench.security import SecurityMiddleware, csp_with_scripts, script_hash
from graphiff.workbench.snapshot import SnapshotHolder
from graphiff.workbench.triage_view import TriageView

__all__ = ["create_app", "STATIC", "CYTOSCAPE"]

#: The page, its scripts and styles, and the vendored Swagger UI.
STATIC = Path(__file__).resolve().parent / "static"
#: Cytoscape.js, vendored once for the link charts and the workbench.
CYTOSCAPE = Path(__file__).resolve().parents[1] / "charts" / "vendor" / "cytoscape.min.js"



def _version() -> str:
    try:
        return metadata.version("graphiff")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare source tree
        return "unknown"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    errs = exc.errors()
    if not errs:
        return "the request is not valid"
    first = errs[0]
    where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "body", "path"))
    msg = str(first.get("msg", "is not valid"))
    return f"{where}: {msg}" if where else msg


def _docs_html(title: str) -> str:
    page = get_swagger_ui_html(openapi_url="/openapi.json", title=title,
                               swagger_js_url="/static/vendor/swagger-ui-bundle.js",
                               swagger_css_url="/static/vendor/swagger-ui.css", swagger_favicon_url="data:,")
    return bytes(page.body).decode("utf-8")


def create_app(store_uri: str | None, *, database: str | None = None, resolved: bool = True,
               refresh_seconds: float = 5.0, host: str = "127.0.0.1", key_file: str | Path | None = None,
               producer: str | None = None, max_body: int = 16 * 1024 * 1024,
               progress: Callable[[str], None] | None = None, idle_minutes: int = 30,
               behind_tls_proxy: bool = False, server_names: Iterable[str] = ()) -> FastAPI:
    """The workbench web application over one store.

    Parameters
    ----------
    store_uri : str or None
        The store (an embedded file, which must exist, or ``bolt://...``); None:
        ``$GRAPHIFF_STORE`` or ``./graphiff.duckdb``.
    database : str, optional
        The Neo4j database.
    resolved : bool
        Read the resolved view (default) or the records as loaded (``--unresolved``).
    refresh_seconds : float
        How often at most the store is checked for changes (0: never).
    host : str
        The address the server is bound to (accepted in the ``Host`` header besides localhost).
        On a loopback address with no users in the case book, the single local user works
        without login; elsewhere everybody signs in.
    key_file : path, optional
        The team key for pseudonymised packages (else ``$GRAPHIFF_PACKAGE_KEY``; none: such
        packages are refused with a 400 saying so).
    producer : str, optional
        Who sends the packages made here (default ``$GRAPHIFF_PRODUCER``, else the user name).
    max_body : int
        Largest request body in bytes.
    progress : callable, optional
        Told the steps of the first reading of the store.
    idle_minutes : int
        A session without a request for this long ends (sign in again).
    behind_tls_proxy : bool
        A reverse proxy terminates TLS: session cookies are always ``Secure`` (else only on
        requests that came over https).
    server_names : iterable of str
        Further names clients reach the server by (accepted in the ``Host`` header).

    Returns
    -------
    FastAPI
        The app; the store is read before it returns (see
        :func:`graphiff.workbench.snapshot.build_snapshot` for the cost). Call
        ``app.state.close()`` when done with it: it writes the audit entries still queued and
        releases the case book and the store (a Neo4j store stays connected until then).

    Raises
    ------
    GraphiffError
        The store cannot be opened or read, or the key file is not a team key.
    """
    if int(idle_minutes) < 1:
        raise GraphiffError("the idle timeout is at least 1 minute")
    key = read_key(key_file)
    who = producer or os.environ.get("GRAPHIFF_PRODUCER") or os_user_name()
    holder = SnapshotHolder(store_uri, database=database, resolved=resolved, refresh_seconds=refresh_seconds,
                            progress=progress)
    try:
        book = open_book(store_uri, database=database)
    except BaseException:
        holder.close()
        raise
    writer = AuditWriter(book)

    title = "graphiff workbench"
    # no lifespan closing the store: an app may be started and stopped more than once (tests); whoever
    # created it closes app.state.holder when done (`graphiff serve` does on exit)
    app = FastAPI(title=title, version=_version(), docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  description="Search, expand and read the entity network of a graphiff store (docs/api.md).")
    app.state.holder = holder
    app.state.settings = Settings(producer=who, key=key, version=_version())
    app.state.book = book
    app.state.auth = Auth(book, writer, host=host, local_name=os_user_name(), idle_minutes=int(idle_minutes),
                          secure_cookies=behind_tls_proxy)
    app.state.triage = TriageView(book)
    closed: list[bool] = []

    def close() -> None:
        """Write the queued audit entries, then release the case book and the store (once)."""
        if closed:
            return
        closed.append(True)
        try:
            app.state.auth.audit.close()
        finally:
            try:
                book.close()
            finally:
                holder.close()
    app.state.close = close

    @app.exception_handler(LoginRequired)
    async def login_required(_req: Request, exc: LoginRequired) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="graphiff"'})

    @app.exception_handler(AccessDenied)
    async def access_denied(_req: Request, exc: AccessDenied) -> JSONResponse:
        return _error(403, str(exc))

    @app.exception_handler(NotFound)
    async def not_found(_req: Request, exc: NotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(StoreError)
    async def store_error(_req: Request, exc: StoreError) -> JSONResponse:
        return _error(500, str(exc))

    @app.exception_handler(GraphiffError)
    async def bad_request(_req: Request, exc: GraphiffError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        msg = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and msg == "Not Found":
            msg = "no such page or request"
        return JSONResponse({"error": msg}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    for r in (meta, session, search, graph, alerts, export, cases):
        app.include_router(r.router)

    docs = _docs_html(f"{title} - API")
    docs_scripts = [script_hash(s) for s in re.findall(r"<script>(.*?)</script>", docs, flags=re.S)]

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return HTMLResponse(docs)

    @app.get("/", include_in_schema=False)
    def page() -> Any:
        index = STATIC / "index.html"
        if not index.is_file():
            return _error(404, "the workbench page is not installed (graphiff/workbench/static/index.html)")
        return FileResponse(index, media_type="text/html; charset=utf-8")

    @app.get("/static/vendor/cytoscape.min.js", include_in_schema=False)
    def cytoscape() -> FileResponse:
        return FileResponse(CYTOSCAPE, media_type="text/javascript; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    allowed = [*([host] if host not in ("0.0.0.0", "::", "") else []), *server_names]
    app.add_middleware(SecurityMiddleware, allowed_hosts=allowed, max_body=max_body,
                       page_csp={"/docs": csp_with_scripts(docs_scripts)})
    return app

