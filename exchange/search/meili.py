"""The Meilisearch backend: one shared index, settings kept in code, writes confirmed by task status."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import meilisearch
import requests
from meilisearch._httprequests import HttpRequests
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError

from exchange.search import text
from exchange.search.documents import FACETS, HIT_FIELDS, SearchQuery, SearchResult, hit_from

log = logging.getLogger(__name__)

SYNONYMS_FILE = Path(__file__).resolve().parents[2] / "seed" / "search" / "synonyms.json"

FILTERABLE = ["kind", "region", "district", "field", "field_parent", "maturity", "modes", "status", "visibility",
              "price_fen", "organization_id", "entry_id"]
RETRIEVED = ["id", *HIT_FIELDS]
# A rebuild queues every batch at once: the last waits for all before it (100,000 documents take minutes).
REBUILD_TASK_TIMEOUT_MS = 30 * 60 * 1000


class SearchUnavailable(RuntimeError):
    """The engine could not answer; callers fall back and say so."""


class NoDocumentHasTheAttribute(SearchUnavailable):
    """Meilisearch refuses to search an attribute that no document holds yet (an empty index has none)."""


def settings(vocabulary: Iterable[str]) -> dict[str, Any]:
    return {
        # In weight order: a match in the title counts most.
        "searchableAttributes": ["title", "keywords", "title_terms", "organization", "terms", "summary", "pinyin"],
        "filterableAttributes": FILTERABLE,
        "sortableAttributes": ["published_at", "price_fen"],
        "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
        "synonyms": json.loads(SYNONYMS_FILE.read_text(encoding="utf-8")),
        "dictionary": text.engine_dictionary(vocabulary),
        "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["cmn"]}],
        "typoTolerance": {"enabled": True},
        "pagination": {"maxTotalHits": 100000},
        "faceting": {"maxValuesPerFacet": 200},
    }


def _quote(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a quoted, escaped string literal


def filter_expression(query: SearchQuery) -> list[Any]:
    """Meilisearch filters from whitelisted fields, every value quoted: never raw request text."""
    clauses: list[Any] = []
    if query.labels is not None:
        clauses.append(f"visibility IN [{', '.join(_quote(label) for label in query.labels)}]")
    if query.kinds:
        clauses.append(f"kind IN [{', '.join(_quote(kind) for kind in query.kinds)}]")
    for name, value in (("region", query.region), ("district", query.district), ("maturity", query.maturity),
                        ("modes", query.mode)):
        if value is not None:
            clauses.append(f"{name} = {_quote(value)}")
    if query.field:
        clauses.append(f"(field = {_quote(query.field)} OR field_parent = {_quote(query.field)})")
    return clauses


class KeepAliveHttpRequests(HttpRequests):
    """The official client's requests, sent through a kept-alive session: by default the client opens a new session
    and connection for every request, which costs about a millisecond a search."""

    def __init__(self, config: Any, session: requests.Session) -> None:
        super().__init__(config)
        self.session = session

    def send_request(self, http_method: Callable[..., Any], path: str, body: Any = None,
                     content_type: str | None = None, **kwargs: Any) -> Any:
        return super().send_request(getattr(self.session, http_method.__name__), path, body, content_type, **kwargs)


class MeiliBackend:
    name = "meilisearch"

    def __init__(self, url: str, api_key: str | None, index_uid: str, timeout: float = 5.0) -> None:
        self.client = meilisearch.Client(url, api_key, timeout=timeout)
        self.index_uid = index_uid
        self._connections = threading.local()

    def _index(self, uid: str | None = None) -> Any:
        """The client's handle on an index, its requests sent through this thread's kept-alive session. Handles and
        sessions are kept per thread of each process: the client's request object changes its headers on every
        request, and a forked worker must not share its parent's sockets."""
        connections = self._connections
        if getattr(connections, "pid", None) != os.getpid():
            connections.session = self._new_session()
            connections.live = self._handle(self.index_uid, connections.session)
            connections.pid = os.getpid()
        if uid not in (None, self.index_uid):  # a fresh index being rebuilt: used once, not kept
            return self._handle(uid, connections.session)
        return connections.live

    def _handle(self, uid: str, session: requests.Session) -> Any:
        index = self.client.index(uid)
        index.http = KeepAliveHttpRequests(self.client.config, session)
        return index

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # Meilisearch writes a compressed answer in pieces, and on a kept-alive connection each later piece waits for
        # the delayed acknowledgement of the one before (about 40 ms a request); plain answers go out at once.
        session.headers["Accept-Encoding"] = "identity"
        # The environment's proxy and certificate settings, read once rather than on every request (and no .netrc,
        # whose login would replace the API key).
        session.trust_env = False
        session.proxies = requests.utils.get_environ_proxies(self.client.config.url)
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        return session

    def _call(self, operation: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return operation(*args, **kwargs)
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as error:
            raise SearchUnavailable(str(error)) from error
        except MeilisearchApiError as error:
            if error.code == "invalid_search_attributes_to_search_on":
                raise NoDocumentHasTheAttribute(error.message) from error
            if error.code == "index_not_found":
                raise SearchUnavailable("the index does not exist yet; run `flask --app wsgi search reindex`") from error
            raise SearchUnavailable(f"{error.code}: {error.message}") from error

    def _wait(self, task: Any, timeout_ms: int = 120_000) -> None:
        done = self._call(self.client.wait_for_task, task.task_uid, timeout_in_ms=timeout_ms, interval_in_ms=20)
        if done.status != "succeeded":
            raise SearchUnavailable(f"task {task.task_uid} {done.status}: {done.error}")

    def ensure_index(self, index_uid: str | None = None) -> None:
        uid = index_uid or self.index_uid
        try:
            self.client.get_index(uid)
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise SearchUnavailable(str(error)) from error
            self._wait(self._call(self.client.create_index, uid, {"primaryKey": "id"}))
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as error:
            raise SearchUnavailable(str(error)) from error

    def apply_settings(self, index_uid: str | None = None) -> None:
        uid = index_uid or self.index_uid
        self.ensure_index(uid)
        self._wait(self._call(self._index(uid).update_settings, settings(text.vocabulary())))

    def read_settings(self) -> dict[str, Any]:
        return self._call(self._index().get_settings)

    def upsert(self, documents: Iterable[dict[str, Any]], index_uid: str | None = None) -> None:
        batch = list(documents)
        if batch:
            self._wait(self._call(self._index(index_uid).add_documents, batch, "id"))

    def delete(self, ids: Iterable[str]) -> None:
        batch = list(ids)
        if batch:
            self._wait(self._call(self._index().delete_documents, batch))

    def rebuild(self, documents: Iterable[dict[str, Any]]) -> int:
        """Fill a fresh index, swap it with the live one in one step, then drop the old one. Every batch is sent
        before any is awaited: Meilisearch indexes the additions queued behind each other together, far faster
        than one at a time, and nothing reads the fresh index before the swap."""
        fresh = f"{self.index_uid}_{int(time.time() * 1000)}"
        self.apply_settings(fresh)
        index = self._index(fresh)
        tasks = []
        count = 0
        batch: list[dict[str, Any]] = []
        for document in documents:
            batch.append(document)
            count += 1
            if len(batch) >= 1000:
                tasks.append(self._call(index.add_documents, batch, "id"))
                batch = []
        if batch:
            tasks.append(self._call(index.add_documents, batch, "id"))
        for task in tasks:
            self._wait(task, timeout_ms=REBUILD_TASK_TIMEOUT_MS)
        self.ensure_index()
        self._wait(self._call(self.client.swap_indexes, [{"indexes": [self.index_uid, fresh]}]))
        self._wait(self._call(self.client.delete_index, fresh))
        return count

    def count(self) -> int:
        return self._call(self._index().get_stats).number_of_documents

    def ids(self) -> set[str]:
        documents = self._call(self._index().get_documents,
                               {"fields": ["id"], "limit": 1_000_000})
        return {document.id for document in documents.results}

    def search(self, query: SearchQuery, by_pinyin: bool = False) -> SearchResult:
        """Match the words of the query, or with by_pinyin how the query sounds."""
        if by_pinyin:
            try:
                result = self._search(query, text.pinyin(query.text), ["pinyin"])
            except NoDocumentHasTheAttribute as error:  # an empty index; else its settings were never applied
                log.warning("nothing to search by sound: %s", error)
                return SearchResult(hits=[], total=0, facets={name: {} for name in FACETS}, backend=self.name)
            result.matched_by = "pinyin"
            return result
        return self._search(query, text.normalize(query.text), None)

    def _search(self, query: SearchQuery, q: str, attributes: list[str] | None) -> SearchResult:
        options: dict[str, Any] = {
            "filter": filter_expression(query), "facets": list(FACETS), "page": query.page,
            "hitsPerPage": query.per_page, "attributesToRetrieve": RETRIEVED,
            # Every word must match, as in the embedded backend; a miss falls through to pinyin.
            "matchingStrategy": "all",
        }
        sort = {"newest": ["published_at:desc"], "price_asc": ["price_fen:asc"],
                "price_desc": ["price_fen:desc"]}.get(query.sort)
        if sort:
            options["sort"] = sort
        if attributes:
            options["attributesToSearchOn"] = attributes
        answer = self._call(self._index().search, q, options)
        facets = {name: {str(k): v for k, v in values.items()}
                  for name, values in (answer.get("facetDistribution") or {}).items()}
        return SearchResult(hits=[hit_from(hit) for hit in answer["hits"]], total=answer.get("totalHits", 0),
                            facets={name: facets.get(name, {}) for name in FACETS}, backend=self.name)
