# Examples for the rules (tests/test_static_rules.py): the line after each `ruleid:` comment must be
# found by that rule; nothing else may be.
import os
import subprocess

import sqlalchemy as sa
from flask import render_template_string, request, url_for
from markupsafe import Markup, escape

log = None
connection = None


def markup(name):
    # ruleid: markup-on-dynamic-data
    Markup(name)
    # ok: markup-on-dynamic-data
    Markup("<br>")
    return escape(name)


def template(name):
    # ruleid: render-template-string
    return render_template_string("Hello " + name)


def links(secret):
    # ruleid: external-url-from-request
    url_for("accounts.reset_password", token=secret, _external=True)
    # ruleid: external-url-from-request, request-in-services
    base = request.url_root
    # ok: external-url-from-request
    return base + url_for("accounts.reset_password", token=secret)


def shell(name):
    # ruleid: subprocess-with-shell
    subprocess.run(f"pg_dump {name}", shell=True)
    # ruleid: subprocess-with-shell
    os.system("pg_dump " + name)
    # ok: subprocess-with-shell
    subprocess.run(["pg_dump", name], check=True)


def sql(name, user_id):
    # ruleid: raw-sql-string-formatting
    sa.text(f"SELECT * FROM users WHERE name = '{name}'")
    # ruleid: raw-sql-string-formatting
    connection.execute("SELECT * FROM users WHERE id = %s" % user_id)
    # ruleid: raw-sql-string-formatting
    connection.exec_driver_sql(f"DROP DATABASE {name}")
    # ok: raw-sql-string-formatting
    connection.execute(sa.text("SELECT * FROM users WHERE name = :name"), {"name": name})


def logs(token, reset_link, user):
    # ruleid: secret-in-log
    log.info("issued %s", token)
    # ruleid: secret-in-log
    log.warning(f"reset {reset_link}")
    # ok: secret-in-log
    log.info("reset asked for by user %s", user.id)


def query_string():
    # ruleid: token-from-query-string, request-in-services
    return request.args.get("access_token")


def debug(app):
    # ruleid: debug-mode-on
    app.run(debug=True)


def ambient(flask):
    # ruleid: request-in-services
    address = request.remote_addr
    # ruleid: request-in-services
    return address, flask.has_request_context()
