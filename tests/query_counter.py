"""Counting the SQL statements a request runs."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from exchange.extensions import db


@dataclass
class QueryCount:
    count: int = 0


@contextmanager
def count_queries(app: Flask) -> Iterator[QueryCount]:
    counter = QueryCount()

    def before_cursor_execute(*_args: object) -> None:
        counter.count += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield counter
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)
