"""The Flask front end: ``create_app(config)`` -> Flask."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g

from kb.config import Settings, load_settings
from kb.service import Service


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    service: Service | None = None,
) -> Flask:
    """Build the app. ``config`` holds settings (as in the settings table) for a store the app
    starts itself; or pass a started :class:`Service` (what ``kb serve`` and the tests do)."""
    settings = settings or (service.settings if service else load_settings(config))
    if service is None:
        service = Service(settings)
        service.start()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.extensions["kb"] = service

    from server import errors, sparql, ui

    errors.init_app(app)
    ui.init_app(app)  # the home page (with its link report) and /health
    sparql.init_app(app)  # the /sparql blueprint and its result cache

    from server import catalog, pages

    app.register_blueprint(pages.bp)  # /id, /doc, /resource, /ns (linked-data pages)
    catalog.init_app(app)  # /downloads, /void, /catalog and the publication state

    from server import submissions

    submissions.init_app(app)  # /submissions, /graphs (Graph Store Protocol), /update

    from server import reconcile

    reconcile.init_app(app)  # /reconcile (Reconciliation Service API 0.2)

    from server import partners

    partners.init_app(app)  # /partners (registry of partner datasets, harvests)

    @app.before_request
    def _started() -> None:
        g.kb_started = time.monotonic()

    @app.after_request
    def _settled(response: Response) -> Response:
        # a request that wrote answers once every front end's queries see what it wrote
        started = getattr(g, "kb_started", None)
        if started is not None and service.running:
            service.store.settle(since=started)
        return response

    return app


def kb_service() -> Service:
    """The running knowledge base of the current app."""
    from flask import current_app

    service: Service = current_app.extensions["kb"]
    return service
