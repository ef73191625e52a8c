"""The embedded search backend: SQLite FTS5 over jieba-cut words, in a file of its own.

Good for one machine and tens of thousands of entries, with no server to run. Filters and
visibility are SQL on the same connection, so totals and facet counts are those of what the
viewer may see.

Where the time goes: a text query finds its documents in the FTS index once, keeps them in a
materialized set, and counts every facet over that set; browsing without text counts each facet
by walking an index led by that facet which also holds every filter column, so no table row is
read; only the page shown is sorted out of the table and its hits decoded.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from exchange.search import text
from exchange.search.documents import FACETS, HIT_FIELDS, PUBLIC, SearchQuery, SearchResult, hit_from
from exchange.search.meili import SearchUnavailable

# Raised whenever the layout below changes: a file of another layout is never read (search answers from the
# database and says so) until `flask --app wsgi search reindex` rebuilds it.
SCHEMA_VERSION = 2

# The columns that filters and facets read; every facet index holds all of them.
FILTER_COLUMNS = ("public", "kind", "region", "district", "field", "field_parent", "maturity", "modes")

SCHEMA = (
    """CREATE TABLE documents (
        docid INTEGER PRIMARY KEY,  -- also the rowid of the document's words in document_text
        id TEXT NOT NULL UNIQUE,
        -- Almost every document is public and every viewer sees public documents: a column, not a join.
        public INTEGER NOT NULL,
        kind TEXT NOT NULL, region TEXT NOT NULL, district INTEGER, field TEXT, field_parent TEXT, maturity TEXT,
        -- ",transfer,license,": one column, so that the few combinations of modes are counted in one pass.
        modes TEXT,
        price_fen INTEGER, published_at INTEGER NOT NULL,
        hit TEXT NOT NULL)  -- JSON of what a hit shows, read for the page only""",
    # The visibility labels other than public, with the document's public flag: a viewer's labels add the few
    # documents that are not public (their organisation's drafts, their region's pending entries).
    """CREATE TABLE document_labels (label TEXT NOT NULL, public INTEGER NOT NULL, docid INTEGER NOT NULL,
        PRIMARY KEY (label, public, docid)) WITHOUT ROWID""",
    "CREATE INDEX document_labels_docid ON document_labels (docid)",
    """CREATE VIRTUAL TABLE document_text USING fts5(title_terms, terms, pinyin,
        tokenize = "unicode61 remove_diacritics 0")""",
    # The sorts, each walked in its own direction (an index serves one mix of ascending and descending).
    "CREATE INDEX documents_newest ON documents (published_at)",
    "CREATE INDEX documents_cheapest ON documents (price_fen IS NULL, price_fen)",
    "CREATE INDEX documents_dearest ON documents (price_fen IS NOT NULL, price_fen)",
    # One index per facet, led by it and holding every filter column: its counts read no table row.
    *(f"CREATE INDEX documents_by_{facet} ON documents ({facet}, "
      f"{', '.join(column for column in FILTER_COLUMNS if column != facet)})" for facet in FACETS),
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

# The SQL of each facet's counts over the candidates; modes are counted per combination and split afterwards.
# (Facet names are the constants of FACETS, as are the names put into the queries of search() below.)
FACET_COUNTS = " UNION ALL ".join(
    f"SELECT '{facet}', {facet}, count(*) FROM candidates WHERE {facet} IS NOT NULL GROUP BY {facet}"  # nosec B608
    for facet in FACETS)

# Entries without a price last in both price orders.
ORDERS = {
    "newest": "d.published_at DESC, d.docid DESC",
    "price_asc": "d.price_fen IS NULL, d.price_fen, d.docid",
    "price_desc": "d.price_fen IS NOT NULL DESC, d.price_fen DESC, d.docid DESC",
}
RELEVANCE = "bm25(document_text, 10.0, 1.0, 1.0), d.published_at DESC"


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, closing(sqlite3.connect(self.path, timeout=30)) as connection:
            self._create_if_empty(connection)

    @staticmethod
    def _create_if_empty(connection: sqlite3.Connection) -> None:
        """Lay out a new file; a file with tables keeps them (one of another layout is refused when opened)."""
        connection.isolation_level = None  # the transaction below is ours
        connection.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers never wait for the writer
        connection.execute("BEGIN IMMEDIATE")  # of two processes starting at once, the second finds the tables
        if not connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            for statement in SCHEMA:
                connection.execute(statement)
        connection.execute("COMMIT")

    @contextmanager
    def _connect(self, path: Path | None = None) -> Iterator[sqlite3.Connection]:
        """One transaction on a connection of its own, committed (or rolled back) and closed. A connection per use
        sees a rebuilt file at once (rebuild swaps the file under the same name)."""
        connection = sqlite3.connect(path or self.path, timeout=30)
        try:
            if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                raise SearchUnavailable(f"the search index {self.path} was built by an older version; "
                                        "run `flask --app wsgi search reindex`")
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
            labels = document["visibility"]
            EmbeddedBackend._remove(connection, [document["id"]])
            docid = connection.execute(
                "INSERT INTO documents (id, public, kind, region, district, field, field_parent, maturity, modes,"
                " price_fen, published_at, hit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (document["id"], PUBLIC in labels, document["kind"], document["region"], document["district"],
                 document["field"], document["field_parent"], document["maturity"],
                 f",{','.join(document['modes'])}," if document["modes"] else None, document["price_fen"],
                 document["published_at"],
                 json.dumps({name: document[name] for name in HIT_FIELDS}, ensure_ascii=False))).lastrowid
            connection.executemany("INSERT INTO document_labels VALUES (?, ?, ?)",
                                   [(label, PUBLIC in labels, docid) for label in labels if label != PUBLIC])
            connection.execute("INSERT INTO document_text (rowid, title_terms, terms, pinyin) VALUES (?, ?, ?, ?)",
                               (docid, document["title_terms"], document["terms"], document["pinyin"]))

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock, self._connect() as connection:
            self._remove(connection, list(ids))

    @staticmethod
    def _remove(connection: sqlite3.Connection, ids: list[str]) -> None:
        docids = [(row[0],) for key in ids
                  for row in connection.execute("SELECT docid FROM documents WHERE id = ?", (key,))]
        connection.executemany("DELETE FROM document_labels WHERE docid = ?", docids)
        connection.executemany("DELETE FROM document_text WHERE rowid = ?", docids)
        connection.executemany("DELETE FROM documents WHERE docid = ?", docids)

    def rebuild(self, documents: Iterable[dict[str, Any]]) -> int:
        """Build a fresh index file beside the live one and swap it in atomically."""
        fresh = self.path.with_suffix(".rebuild")
        for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
            leftover.unlink(missing_ok=True)
        with closing(sqlite3.connect(fresh)) as connection:
            self._create_if_empty(connection)
        count = 0
        with self._connect(fresh) as connection:
            batch: list[dict[str, Any]] = []
            for document in documents:
                batch.append(document)
                count += 1
                if len(batch) >= 500:
                    self._write(connection, batch)
                    batch = []
            self._write(connection, batch)
            # One b-tree per term instead of one per batch: what every later query reads.
            connection.execute("INSERT INTO document_text (document_text) VALUES ('optimize')")
        with closing(sqlite3.connect(fresh)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to move
        with self._lock:
            os.replace(fresh, self.path)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            with closing(sqlite3.connect(self.path)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
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
        if by_pinyin:
            match: str | None = f"pinyin : {_quote(text.pinyin(query.text))}*"
        else:
            words = [w for w in text.words(query.text) if len(w) > 1 or not w.isascii()] if query.text else []
            if query.text and not words:
                words = text.words(query.text)
            match = " AND ".join(_with_synonyms(w) for w in _covering(words)) if words else None
        with self._connect() as connection:
            result = self._run(connection, query, match)
        if by_pinyin:
            result.matched_by = "pinyin"
        return result

    def _run(self, connection: sqlite3.Connection, query: SearchQuery, match: str | None) -> SearchResult:
        filters, filter_params = _filters(query)
        if match is not None:
            # The FTS index leads, then each match's row by its docid: the other way round runs the match per row.
            source = "document_text CROSS JOIN documents d ON d.docid = document_text.rowid"
            filters.insert(0, "document_text MATCH ?")
            filter_params.insert(0, match)
        else:
            source = "documents d"
        total = 0
        facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        for seen, seen_params, few in _visibility(query.labels):
            where = " AND ".join([seen, *filters])
            # A text query's matches, or the few documents of a label, are found once and counted from there;
            # browsing all public documents, each facet's count is its own walk over that facet's covering
            # index, cheaper than copying every visible row first.
            materialized = "MATERIALIZED" if match is not None or few else "NOT MATERIALIZED"
            counts = connection.execute(
                f"WITH candidates AS {materialized} (SELECT {', '.join(FILTER_COLUMNS)} FROM {source} "  # noqa: S608  # nosec B608
                f"WHERE {where}) SELECT 'total', NULL, count(*) FROM candidates UNION ALL {FACET_COUNTS}",
                [*seen_params, *filter_params])
            for facet, value, number in counts:
                if facet == "total":
                    total += number
                elif facet == "modes":
                    for mode in value.strip(",").split(","):
                        facets["modes"][mode] = facets["modes"].get(mode, 0) + number
                else:
                    facets[facet][str(value)] = facets[facet].get(str(value), 0) + number
        seen, seen_params = _any_of(_visibility(query.labels))
        order = ORDERS.get(query.sort) or (RELEVANCE if match is not None else ORDERS["newest"])
        page = [row[0] for row in connection.execute(
            f"SELECT d.docid FROM {source} WHERE {' AND '.join([seen, *filters])} "  # noqa: S608  # nosec B608
            f"ORDER BY {order} LIMIT ? OFFSET ?", [*seen_params, *filter_params, query.per_page, query.offset])]
        # nosemgrep: raw-sql-string-formatting — only placeholders are put in
        shown = dict(connection.execute(
            f"SELECT docid, hit FROM documents WHERE docid IN ({','.join('?' * len(page))})", page))  # noqa: S608  # nosec B608
        return SearchResult(hits=[hit_from(json.loads(shown[docid])) for docid in page], total=total,
                            facets=facets, backend=self.name)


def _visibility(labels: tuple[str, ...] | None) -> list[tuple[str, list[str], bool]]:
    """What a viewer with these labels may see, as conditions on documents d that no document meets twice (so
    that counts add up), each with its parameters and whether it holds few documents: the public documents by
    their column, and apart from them those that carry one of the viewer's other labels."""
    if labels is None:
        return [("1", [], False)]
    others = [label for label in labels if label != PUBLIC]
    marks = ",".join("?" * len(others))  # the SQL below gets only these placeholders; the labels are bound
    if PUBLIC not in labels:
        return [(f"d.docid IN (SELECT docid FROM document_labels WHERE label IN ({marks}))", others, True)]  # nosec B608
    parts = [("d.public = 1", [], False)]
    if others:
        parts.append((f"d.docid IN (SELECT docid FROM document_labels WHERE label IN ({marks}) AND public = 0)",  # nosec B608
                      others, True))
    return parts


def _any_of(parts: list[tuple[str, list[str], bool]]) -> tuple[str, list[str]]:
    return ("(" + " OR ".join(condition for condition, _, _ in parts) + ")",
            [value for _, values, _ in parts for value in values])


def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
    """SQL conditions on documents d for every filter of the query, with their parameters."""
    conditions: list[str] = []
    params: list[Any] = []
    if query.kinds:
        conditions.append(f"d.kind IN ({','.join('?' * len(query.kinds))})")
        params.extend(query.kinds)
    for column, value in (("region", query.region), ("district", query.district), ("maturity", query.maturity)):
        if value is not None:
            conditions.append(f"d.{column} = ?")
            params.append(value)
    if query.field:
        conditions.append("(d.field = ? OR d.field_parent = ?)")
        params.extend([query.field, query.field])
    if query.mode:
        conditions.append("instr(d.modes, ?) > 0")
        params.append(f",{query.mode},")
    return conditions, params


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
