"""The analyst workbench: serve (a web application over the store, on this machine only)."""
from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from graphiff.cli.app import app
from graphiff.cli.common import DatabaseOpt, StoreOpt, UnresolvedOpt, user_name
from graphiff.errors import GraphiffError

#: Said when --host names an address other machines could reach.
NOT_LOOPBACK = ("binding beyond this machine needs users and logins, which come with case work; serve on "
                "127.0.0.1 (the default), ::1 or localhost")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches: 127.0.0.0/8, ::1 and ``localhost``.

    >>> is_loopback("127.0.0.2"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("10.0.0.1")
    (True, True, False, False)
    """
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


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
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on: this machine only (127.0.0.1, ::1 "
                                                         "or localhost) until case work brings users and logins."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    unresolved: bool = UnresolvedOpt,
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="Team key for pseudonymised sharing packages "
                                                                     "(else $GRAPHIFF_PACKAGE_KEY)."),
    producer: Optional[str] = typer.Option(None, "--producer", envvar="GRAPHIFF_PRODUCER",
                                           help="Who sends the packages made in the workbench (default: your user "
                                                "name)."),
) -> None:
    """Serve the analyst workbench: search, expand and filter the network, read alerts with their evidence in
    words, timelines, and export the view as a link chart or a sharing package, in the browser. The JSON API
    (docs/api.md) is documented at /docs. The store is re-read when a load, detect, resolve or judgement
    changes it (checked every few seconds)."""
    import uvicorn

    from graphiff.workbench import create_app

    if not is_loopback(host):
        raise GraphiffError(NOT_LOOPBACK)
    sock = _bind(host, port)
    try:
        err = Console(stderr=True)
        with err.status("reading the store") as status:
            web = create_app(store, database=database, resolved=not unresolved, host=host, key_file=key_file,
                             producer=producer or user_name(),
                             progress=lambda step: status.update(step))
        try:
            config = uvicorn.Config(web, log_level="warning", access_log=False, lifespan="on")
            server = uvicorn.Server(config)
            shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
            print(f"graphiff workbench at http://{shown}:{port}/", flush=True)
            server.run(sockets=[sock])
        finally:
            web.state.holder.close()
    finally:
        sock.close()
    sys.stdout.flush()
