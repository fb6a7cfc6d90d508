"""The analyst workbench: serve (a web application over the store; beyond this machine only
once the case book has users who sign in)."""
from __future__ import annotations

import errno
import os
import socket
import ssl
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from graphiff.cli.app import app
from graphiff.cli.common import DatabaseOpt, StoreOpt, UnresolvedOpt, user_name
from graphiff.errors import GraphiffError
from graphiff.workbench.auth import is_loopback

#: Said when --host names an address other machines could reach and nobody can sign in.
NOT_LOOPBACK = ("serving beyond this machine needs users who sign in, and the case book has none: add them with "
                "`graphiff users add NAME --role analyst`, or serve on 127.0.0.1 (the default), ::1 or localhost")


def users_exist(store: str | None, database: str | None = None) -> bool:
    """Whether the case book of ``store`` has users (a store not made yet has none). Cost:
    opening the case book (a SQLite file, or a Neo4j connection) and one read."""
    from graphiff.casework.users import has_users
    from graphiff.stores import DEFAULT_STORE, embedded_path, open_book

    path = embedded_path(store or os.environ.get("GRAPHIFF_STORE") or DEFAULT_STORE)
    if path is not None and not path.exists():
        return False
    with open_book(store, database=database) as book:
        return has_users(book)


def check_host(host: str, store: str | None, database: str | None = None) -> bool:
    """Whether the workbench may listen on ``host``: a loopback address always, another only when
    the case book has users (else :class:`GraphiffError` saying to add them). Returns whether
    users exist (False: the single local user, without login)."""
    users = users_exist(store, database)
    if not is_loopback(host) and not users:
        raise GraphiffError(NOT_LOOPBACK)
    return users


def _tls(cert: Path | None, key: Path | None) -> dict[str, str]:
    """uvicorn's TLS settings for ``--tls-cert`` and ``--tls-key`` (both or neither)."""
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        raise GraphiffError("TLS needs both --tls-cert FILE and --tls-key FILE")
    for p, what in ((cert, "--tls-cert"), (key, "--tls-key")):
        if not p.is_file():
            raise GraphiffError(f"{what}: no file {p}")
    # read them now, as uvicorn will: a bad pair is one line before anything is served, not a
    # traceback after "workbench at https://..." was printed
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key),
                                                                           password=_no_passphrase)
    except (ssl.SSLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
        raise GraphiffError(f"--tls-cert {cert} and --tls-key {key} are not a PEM certificate and its unencrypted "
                            f"private key ({reason})") from None
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def _no_passphrase() -> str:
    """An encrypted key is refused (the server cannot ask for its passphrase) instead of prompting."""
    raise ValueError("the private key is encrypted: give it unencrypted, readable only by the server's account")


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (refused with one clear message when it is taken)."""
    h = host.strip().strip("[]")
    addr = "127.0.0.1" if h.lower() == "localhost" else h
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # answers go out at once: without it, the body written after the headers waits for the
        # client's delayed ACK on a kept-alive connection (40 ms a request); connections inherit it
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((addr, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise GraphiffError(f"port {port} on {host} is in use (another graphiff serve?): choose another with "
                                "--port") from None
        raise GraphiffError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock


@app.command("serve")
def serve_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on: 127.0.0.1 (this machine only; "
                                                         "with no users, as the single local user without login), "
                                                         "or e.g. 0.0.0.0 once `graphiff users add` made users."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    unresolved: bool = UnresolvedOpt,
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="Team key for pseudonymised sharing packages "
                                                                     "(else $GRAPHIFF_PACKAGE_KEY)."),
    producer: Optional[str] = typer.Option(None, "--producer", envvar="GRAPHIFF_PRODUCER",
                                           help="Who sends the packages made in the workbench (default: your user "
                                                "name)."),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help="TLS certificate (PEM): serve https."),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", help="The certificate's private key (PEM)."),
    behind_tls_proxy: bool = typer.Option(False, "--behind-tls-proxy", help="A reverse proxy terminates TLS: mark "
                                                                             "session cookies Secure."),
    idle_minutes: int = typer.Option(30, "--idle-minutes", min=1, help="Sign a session out after this many minutes "
                                                                       "without a request."),
    server_name: list[str] = typer.Option([], "--server-name", help="A name clients reach the server by (its DNS "
                                                                    "name; repeatable): accepted in the Host header."),
) -> None:
    """Serve the analyst workbench: search, expand and filter the network, read alerts with their evidence in
    words, timelines, and export the view as a link chart or a sharing package, in the browser. The JSON API
    (docs/api.md) is documented at /docs. The store is re-read when a load, detect, resolve or judgement
    changes it (checked every few seconds). With users in the case book everybody signs in (roles, CSRF,
    idle timeout); every request is written to the audit log. Beyond this machine serve https (--tls-cert and
    --tls-key) or behind a TLS proxy (--behind-tls-proxy)."""
    import uvicorn

    from graphiff.workbench import create_app

    users = check_host(host, store, database)
    tls = _tls(tls_cert, tls_key)
    names = list(server_name)
    if host.strip("[]") in ("0.0.0.0", "::"):
        names += [socket.gethostname(), socket.getfqdn()]
    sock = _bind(host, port)
    try:
        err = Console(stderr=True)
        with err.status("reading the store") as status:
            web = create_app(store, database=database, resolved=not unresolved, host=host, key_file=key_file,
                             producer=producer or user_name(), idle_minutes=idle_minutes,
                             behind_tls_proxy=behind_tls_proxy, server_names=names,
                             progress=lambda step: status.update(step))
        try:
            config = uvicorn.Config(web, log_level="warning", access_log=False, lifespan="on", **tls)  # type: ignore[arg-type]
            server = uvicorn.Server(config)
            shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
            print(f"graphiff workbench at {'https' if tls else 'http'}://{shown}:{port}/", flush=True)
            if not tls and not behind_tls_proxy and not is_loopback(host):
                err.print("warning: served over plain http beyond this machine: passwords and session cookies "
                          "cross the network readable by anyone on the way; serve https (--tls-cert and "
                          "--tls-key) or behind a TLS proxy (--behind-tls-proxy)", markup=False, highlight=False,
                          soft_wrap=True)
            if not users:
                print(f"no users configured: the workbench runs as the single local user {user_name()} without "
                      "login (add users with `graphiff users add` to require one)", flush=True)
            server.run(sockets=[sock])
        finally:
            web.state.close()
    finally:
        sock.close()
    sys.stdout.flush()
