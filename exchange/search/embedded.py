"""The embedded search backend: SQLite FTS5 over jieba-cut words, in a file of its own.

Good for one machine and tens of thousands of entries, with no server to run. Filters and
visibility are SQL on the same connection, so totals and facet counts are those of what the
viewer may see.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from functools import lru_cache
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from exchange.search import text
from exchange.search.documents import FACETS, SearchQuery, SearchResult, hit_from

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, body TEXT NOT NULL, kind TEXT, region TEXT, district INTEGER, field TEXT,
    field_parent TEXT, maturity TEXT, price_fen INTEGER, published_at INTEGER);
CREATE TABLE IF NOT EXISTS document_labels (id TEXT, label TEXT, PRIMARY KEY (id, label)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS document_labels_label ON document_labels (label, id);
CREATE TABLE IF NOT EXISTS document_modes (id TEXT, mode TEXT, PRIMARY KEY (id, mode)) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS document_text USING fts5(id UNINDEXED, title_terms, terms, pinyin,
    tokenize = "unicode61 remove_diacritics 0");
"""

COLUMNS = ("kind", "region", "district", "field", "field_parent", "maturity")


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.executescript(SCHEMA)

    @contextmanager
    def _connect(self, path: Path | None = None) -> Iterator[sqlite3.Connection]:
        """One transaction on a connection of its own, committed (or rolled back) and closed."""
        connection = sqlite3.connect(path or self.path, timeout=30)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            with connection:
                yield connection
        finally:
            connection.close()

    # Writing ---------------------------------------------------------------------------
    def upsert(self, documents: Iterable[dict[str, Any]]) -> None:
        with self._lock, self._connect() as connection:
            self._write(connection, documents)

    @staticmethod
    def _write(connection: sqlite3.Connection, documents: Iterable[dict[str, Any]]) -> None:
        for document in documents:
            key = document["id"]
            EmbeddedBackend._remove(connection, [key])
            connection.execute(
                "INSERT INTO documents (id, body, kind, region, district, field, field_parent, maturity, price_fen,"
                " published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, json.dumps(document, ensure_ascii=False), *(document[c] for c in COLUMNS),
                 document["price_fen"], document["published_at"]))
            connection.executemany("INSERT INTO document_labels VALUES (?, ?)",
                                   [(key, label) for label in document["visibility"]])
            connection.executemany("INSERT INTO document_modes VALUES (?, ?)",
                                   [(key, mode) for mode in document["modes"]])
            connection.execute("INSERT INTO document_text (id, title_terms, terms, pinyin) VALUES (?, ?, ?, ?)",
                               (key, document["title_terms"], document["terms"], document["pinyin"]))

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock, self._connect() as connection:
            self._remove(connection, list(ids))

    @staticmethod
    def _remove(connection: sqlite3.Connection, ids: list[str]) -> None:
        for table in ("documents", "document_labels", "document_modes", "document_text"):
            connection.executemany(f"DELETE FROM {table} WHERE id = ?", [(key,) for key in ids])  # noqa: S608

    def rebuild(self, documents: Iterable[dict[str, Any]]) -> int:
        """Build a fresh index file beside the live one and swap it in atomically."""
        fresh = self.path.with_suffix(".rebuild")
        for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
            leftover.unlink(missing_ok=True)
        count = 0
        with self._connect(fresh) as connection:
            connection.executescript(SCHEMA)
            batch: list[dict[str, Any]] = []
            for document in documents:
                batch.append(document)
                count += 1
                if len(batch) >= 500:
                    self._write(connection, batch)
                    batch = []
            self._write(connection, batch)
        with closing(sqlite3.connect(fresh)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to move
        with self._lock:
            os.replace(fresh, self.path)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return count

    def count(self) -> int:
        with self._connect() as connection:
            return connection.execute("SELECT count(*) FROM documents").fetchone()[0]

    def ids(self) -> set[str]:
        with self._connect() as connection:
            return {row[0] for row in connection.execute("SELECT id FROM documents")}

    # Reading ---------------------------------------------------------------------------
    def search(self, query: SearchQuery, by_pinyin: bool = False) -> SearchResult:
        """Match the words of the query, or with by_pinyin how the query sounds."""
        with self._connect() as connection:
            if by_pinyin:
                result = self._run(connection, query, f"pinyin : {_quote(text.pinyin(query.text))}*")
                result.matched_by = "pinyin"
                return result
            words = [w for w in text.words(query.text) if len(w) > 1 or not w.isascii()] if query.text else []
            if query.text and not words:
                words = text.words(query.text)
            match = " AND ".join(_with_synonyms(w) for w in _covering(words)) if words else None
            return self._run(connection, query, match)

    def _run(self, connection: sqlite3.Connection, query: SearchQuery, match: str | None) -> SearchResult:
        conditions: list[str] = []
        params: list[Any] = []
        if match is not None:
            conditions.append("d.id IN (SELECT id FROM document_text WHERE document_text MATCH ?)")
            params.append(match)
        if query.labels is not None:
            conditions.append(f"d.id IN (SELECT id FROM document_labels WHERE label IN "
                              f"({','.join('?' * len(query.labels))}))")
            params.extend(query.labels)
        facet_conditions = list(conditions)
        facet_params = list(params)
        filters: list[tuple[str, list[Any]]] = []
        if query.kinds:
            filters.append((f"d.kind IN ({','.join('?' * len(query.kinds))})", list(query.kinds)))
        for column, value in (("region", query.region), ("district", query.district),
                              ("maturity", query.maturity)):
            if value is not None:
                filters.append((f"d.{column} = ?", [value]))
        if query.field:
            filters.append(("(d.field = ? OR d.field_parent = ?)", [query.field, query.field]))
        if query.mode:
            filters.append(("d.id IN (SELECT id FROM document_modes WHERE mode = ?)", [query.mode]))
        for clause, values in filters:
            conditions.append(clause)
            params.extend(values)
        where = " AND ".join(conditions) or "1"
        total = connection.execute(f"SELECT count(*) FROM documents d WHERE {where}", params).fetchone()[0]  # noqa: S608
        order = {
            "newest": "d.published_at DESC, d.id",
            "price_asc": "d.price_fen IS NULL, d.price_fen ASC, d.id",
            "price_desc": "d.price_fen IS NULL, d.price_fen DESC, d.id",
        }.get(query.sort)
        if order is None:
            order = ("(SELECT bm25(document_text, 10.0, 1.0, 1.0) FROM document_text WHERE document_text MATCH ? "
                     "AND document_text.id = d.id), d.published_at DESC") if match else "d.published_at DESC, d.id"
        order_params = [match] if match and query.sort not in ("newest", "price_asc", "price_desc") else []
        rows = connection.execute(
            f"SELECT d.body FROM documents d WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
            [*params, *order_params, query.per_page, query.offset]).fetchall()
        facets = self._facets(connection, facet_conditions, facet_params, filters)
        return SearchResult(hits=[hit_from(json.loads(row[0])) for row in rows], total=total, facets=facets,
                            backend=self.name)

    @staticmethod
    def _facets(connection: sqlite3.Connection, base: list[str], params: list[Any],
                filters: list[tuple[str, list[Any]]]) -> dict[str, dict[str, int]]:
        """Counts per value of each facet, under the text query, the visibility and every filter."""
        conditions = base + [clause for clause, _ in filters]
        values = params + [value for _, group in filters for value in group]
        where = " AND ".join(conditions) or "1"
        facets: dict[str, dict[str, int]] = {}
        for facet in FACETS:
            if facet == "modes":
                sql = (f"SELECT m.mode, count(*) FROM documents d JOIN document_modes m ON m.id = d.id "  # noqa: S608
                       f"WHERE {where} GROUP BY m.mode")
            else:
                sql = (f"SELECT d.{facet}, count(*) FROM documents d WHERE {where} "  # noqa: S608
                       f"AND d.{facet} IS NOT NULL GROUP BY d.{facet}")
            facets[facet] = {str(value): count for value, count in connection.execute(sql, values)}
        return facets


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, list[str]]:
    from exchange.search.meili import SYNONYMS_FILE

    return {text.normalize(word): [text.normalize(other) for other in others]
            for word, others in json.loads(SYNONYMS_FILE.read_text(encoding="utf-8")).items()}


def _with_synonyms(word: str) -> str:
    """An FTS5 term for the word or any of its configured synonyms (人工智能 or ai)."""
    alternatives = [word, *_synonyms().get(word, [])]
    return "(" + " OR ".join(f"terms : {_quote(' '.join(text.words(w)) if ' ' in w else w)}"
                             for w in alternatives) + ")"


def _covering(words: list[str]) -> list[str]:
    """The words of a query without those contained in a longer word of it (固态锂电池 covers 电池)."""
    return [w for w in words if not any(w != other and w in other for other in words)]
