"""The Jing-Jin-Ji Innovation Exchange: create_app wires extensions, blueprints, errors and CLI."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

import config as settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None, environment: str | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                instance_path=str(PROJECT_ROOT / "instance"))
    configuration = settings.config_for(environment)
    configuration.check()
    app.config.from_object(configuration)
    app.config.update(overrides or {})
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    from exchange import web

    app.url_map.converters["int"] = web.IdConverter  # before any route is added
    app.json = web.JSONProvider(app)
    app.json.ensure_ascii = False  # Chinese stays readable in JSON answers
    app.json.sort_keys = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from exchange.extensions import babel, csrf, db, limiter, login_manager

    db.init_app(app)
    _configure_database(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    web.init_security(app)
    app.before_request(web.check_query_string)
    web.init_sessions(app)
    web.init_templates(app)

    from exchange.accounts.views import bp as accounts_bp
    from exchange.catalog.views import bp as catalog_bp
    from exchange.notifications.views import bp as notifications_bp
    from exchange.search.views import bp as search_bp
    from exchange.orgs.views import bp as orgs_bp
    from exchange.site.views import bp as site_bp
    from exchange.vouchers.views import bp as vouchers_bp

    for blueprint in (site_bp, accounts_bp, orgs_bp, catalog_bp, notifications_bp, search_bp, vouchers_bp):
        app.register_blueprint(blueprint)

    from exchange.notifications import outbox
    from exchange.notifications.services import deliver_mail
    from exchange.search.services import index_from_outbox, init_search
    from exchange.vouchers import init_vouchers

    # What the worker does with each topic of the outbox, every one of them here.
    outbox.register(app, outbox.MAIL, deliver_mail)
    outbox.register(app, outbox.ENTRY_CHANGED, index_from_outbox)
    init_search(app)
    init_vouchers(app)

    from exchange.accounts.api import auth_bp, me_bp
    from exchange.api import init_api
    from exchange.catalog.api import bp as catalog_api_bp
    from exchange.orgs.api import bp as organizations_api_bp
    from exchange.search.api import bp as search_api_bp
    from exchange.taxonomy.api import bp as taxonomy_api_bp
    from exchange.vouchers.api import bp as vouchers_api_bp

    init_api(app, (auth_bp, me_bp, organizations_api_bp, taxonomy_api_bp, catalog_api_bp, search_api_bp,
                   vouchers_api_bp))
    web.init_error_handlers(app)

    from exchange.cli import register_commands

    register_commands(app)
    return app


def _configure_database(app: Flask) -> None:
    import sqlalchemy as sa

    from exchange.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; commits stop waiting for fsync
            cursor.close()
