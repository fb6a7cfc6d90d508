"""The analyst workbench: ``graphiff serve``, a web application over one store.

A JSON API (docs/api.md; OpenAPI at ``/docs``) and the page that uses it: search, the
neighbourhood of a node with filters and aggregated links, alerts with their evidence in words,
timelines, link-chart and sharing-package exports. The parts:

* :mod:`.app` -- :func:`create_app`: routers, error handling, security, static files;
* :mod:`.snapshot` -- what the server reads from the store, and re-reads when it changes;
* :mod:`.routes` -- one router per resource (search, graph, alerts, export, meta);
* :mod:`.models` -- the JSON shapes; :mod:`.views` -- how subgraphs are written in them;
* :mod:`.security` -- headers, host check, body limit; :mod:`.deps` -- FastAPI dependencies.
"""
from __future__ import annotations

from graphiff.workbench.app import create_app

__all__ = ["create_app"]
