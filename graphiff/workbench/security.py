"""What every response of the workbench carries and every request must pass.

- **Headers**: a strict Content-Security-Policy (nothing from elsewhere, no inline script; the
  ``/docs`` page gets the hash of its one inline script), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY``, and ``Cache-Control: no-store`` on
  the API.
- **Host check** against DNS rebinding: a request whose ``Host`` is not this machine (or the
  address the server is bound to) is refused with 400, before any route runs.
- **Body size**: a request body above the limit is refused with 413.

Refusals are ``{"error": ...}`` like every other error of the API.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Awaitable, Callable, Iterable

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["CSP", "SecurityMiddleware", "csp_with_scripts", "script_hash", "LOOPBACK_NAMES"]

#: The Content-Security-Policy of every page and answer.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

#: Host names that always mean this machine.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def script_hash(script: str) -> str:
    """The CSP source allowing one inline script, ``'sha256-...'``.

    >>> script_hash("alert(1)")
    "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
    """
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def csp_with_scripts(hashes: Iterable[str]) -> str:
    """:data:`CSP` with the given inline-script hashes allowed as well."""
    extra = " ".join(hashes)
    return CSP.replace("script-src 'self'", f"script-src 'self' {extra}".rstrip())


def _host_of(value: str) -> str:
    """The host name of a ``Host`` header (port and IPv6 brackets removed), lower case."""
    v = value.strip().lower()
    if v.startswith("["):
        return v[1:v.find("]")] if "]" in v else v[1:]
    return v.rsplit(":", 1)[0] if v.count(":") == 1 else v


class _TooLarge(StarletteHTTPException):
    """A body that grew past the limit while being read (no Content-Length: chunked). An HTTP
    exception, so that FastAPI's body parsing passes it on as a 413 instead of turning it into
    a 400 "error parsing the body"."""

    def __init__(self, max_body: int):
        super().__init__(413, f"the request body is too large (at most {max_body:,} bytes)")


class SecurityMiddleware:
    """Pure ASGI middleware: host check, body limit, security headers (module docstring).

    Parameters
    ----------
    app : ASGI app
    allowed_hosts : iterable of str
        Host names accepted in the ``Host`` header (besides :data:`LOOPBACK_NAMES`).
    max_body : int
        Largest request body in bytes.
    page_csp : dict
        Path -> Content-Security-Policy for pages that need their own (``/docs``).
    """

    def __init__(self, app: Any, *, allowed_hosts: Iterable[str] = (), max_body: int = 16 * 1024 * 1024,
                 page_csp: dict[str, str] | None = None):
        self.app = app
        self.allowed = {_host_of(h) for h in (*LOOPBACK_NAMES, *allowed_hosts) if h}
        self.max_body = int(max_body)
        self.page_csp = dict(page_csp or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = self.page_csp.get(path, CSP)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                h = MutableHeaders(scope=message)
                h["Content-Security-Policy"] = csp
                h["X-Content-Type-Options"] = "nosniff"
                h["Referrer-Policy"] = "no-referrer"
                h["X-Frame-Options"] = "DENY"
                h["Cross-Origin-Opener-Policy"] = "same-origin"
                if path.startswith("/api") or path == "/openapi.json":
                    h["Cache-Control"] = "no-store"
            await send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = _host_of(headers.get("host", ""))
        if host not in self.allowed:
            await self._refuse(send_with_headers, 400, "this server answers requests for localhost only (the Host "
                                                       "header names another machine)")
            return
        length = headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(send_with_headers, 413, f"the request body is too large (at most "
                                                           f"{self.max_body:,} bytes)")
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge(self.max_body)
            return message

        try:
            await self.app(scope, counted, send_with_headers)
        except _TooLarge:
            if not started:
                await self._refuse(send_with_headers, 413, f"the request body is too large (at most "
                                                           f"{self.max_body:,} bytes)")

    @staticmethod
    async def _refuse(send: Send, status: int, error: str) -> None:
        body = json.dumps({"error": error}).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
