"""Use cases of search: one query across the five libraries and three regions, for this viewer."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from exchange.catalog.models import Entry, EntryKind, EntryMode
from exchange.errors import ValidationFailed
from exchange.pagination import MAX_PER_PAGE
from exchange.policy import Actor, mark_checked, visible_entries
from exchange.search import text
from exchange.search.documents import FACETS, Hit, SearchQuery, SearchResult, build_document, document_id, viewer_labels
from exchange.search.embedded import EmbeddedBackend
from exchange.search.meili import MeiliBackend, SearchUnavailable
from exchange.taxonomy.models import TechnologyField
from exchange.unit_of_work import service

log = logging.getLogger(__name__)

VOCABULARY_REFRESH_SECONDS = 600
_vocabulary_loaded_at = 0.0
_vocabulary_lock = threading.Lock()


# The backend of this app -------------------------------------------------------------------

def init_search(app: Flask) -> None:
    if app.config.get("MEILI_URL"):
        backend: Any = MeiliBackend(app.config["MEILI_URL"], app.config.get("MEILI_MASTER_KEY"),
                                    app.config["MEILI_INDEX"])
    else:
        path = app.config.get("SEARCH_INDEX_PATH") or str(Path(app.instance_path) / "search.sqlite")
        backend = EmbeddedBackend(path)
    app.extensions["search_backend"] = backend


def backend() -> Any:
    return current_app.extensions["search_backend"]


def prepare_engine() -> None:
    """Apply the index settings kept in code (Meilisearch); a failure is logged, never fatal."""
    from exchange.extensions import db

    engine = backend()
    if hasattr(engine, "apply_settings"):
        try:
            ensure_vocabulary(db.session)
            engine.apply_settings()
        except SearchUnavailable as error:
            log.warning("could not apply the search settings now: %s", error)


def ensure_vocabulary(session: Session) -> None:
    """Teach the segmenter the portal's words: field names and keywords (refreshed now and then, so that
    every process learns what the others indexed)."""
    global _vocabulary_loaded_at
    if time.monotonic() - _vocabulary_loaded_at < VOCABULARY_REFRESH_SECONDS and _vocabulary_loaded_at:
        return
    with _vocabulary_lock:
        names = list(session.scalars(sa.select(TechnologyField.name_zh)))
        keywords = [word for row in session.scalars(sa.select(Entry.keywords)) for word in (row or [])]
        text.learn_vocabulary([*names, *keywords])
        _vocabulary_loaded_at = time.monotonic()


# Keeping the index true ------------------------------------------------------------------------

def index_from_outbox(payload: Mapping[str, Any]) -> None:
    """The outbox handler of ENTRY_CHANGED (registered in create_app)."""
    from exchange.extensions import db

    index_entries(db.session, [(payload["kind"], payload["entry_id"])])


def index_entries(session: Session, keys: list[tuple[str, int]]) -> None:
    """Bring the index in line with the database for these entries: upsert what exists, delete the rest.
    Safe to repeat: documents are replaced by id."""
    ensure_vocabulary(session)
    ids = [entry_id for _, entry_id in keys]
    entries = {entry.id: entry for entry in session.scalars(
        sa.select(Entry).where(Entry.id.in_(ids)).options(
            selectinload(Entry.organization), selectinload(Entry.field), selectinload(Entry.modes)))}
    documents = [build_document(entries[entry_id]) for _, entry_id in keys if entry_id in entries]
    for entry in entries.values():
        text.learn_vocabulary(entry.keywords)
    gone = [document_id(kind, entry_id) for kind, entry_id in keys if entry_id not in entries]
    engine = backend()
    engine.upsert(documents)
    if gone:
        engine.delete(gone)


def all_documents(session: Session, batch_size: int = 500) -> Any:
    last_id = 0
    while True:
        entries = list(session.scalars(
            sa.select(Entry).where(Entry.id > last_id).order_by(Entry.id).limit(batch_size)
            .options(selectinload(Entry.organization), selectinload(Entry.field), selectinload(Entry.modes))))
        if not entries:
            return
        for entry in entries:
            yield build_document(entry)
        last_id = entries[-1].id
        session.expunge_all()


def reindex(session: Session) -> int:
    """Rebuild the whole index from the database into a fresh one, swapped in with no downtime."""
    global _vocabulary_loaded_at
    _vocabulary_loaded_at = 0.0
    ensure_vocabulary(session)
    return backend().rebuild(all_documents(session))


# Searching ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    kinds: tuple[str, ...] = ()
    region: str | None = None
    district: str | None = None
    field: str | None = None
    maturity: str | None = None
    mode: str | None = None
    sort: str = "relevance"
    page: str | None = None
    per_page: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> SearchParams:
        single = {name: (args.get(name) or None) for name in
                  ("region", "district", "field", "maturity", "mode", "page", "per_page")}
        return cls(q=(args.get("q") or "").strip(), kinds=tuple(args.getlist("kind")),
                   sort=args.get("sort") or "relevance", **single)


def _query(params: SearchParams, actor: Actor) -> SearchQuery:
    errors: dict[str, Any] = {}
    choice = _l("Please choose one of the offered values.")
    if len(params.q) > 200:
        errors["q"] = _l("Use at most %(max)s characters.", max=200)
    if "\x00" in params.q:
        errors["q"] = _l("Contains characters that are not allowed.")
    if any(kind not in {k.value for k in EntryKind} for kind in params.kinds):
        errors["kind"] = choice
    if params.region and params.region not in ("BJ", "TJ", "HE"):
        errors["region"] = choice
    district = None
    if params.district:
        if params.district.isdigit() and len(params.district) < 9:
            district = int(params.district)
        else:
            errors["district"] = choice
    if params.field and (len(params.field) > 40 or not all(c.isalnum() or c in ".-" for c in params.field)):
        errors["field"] = choice
    if params.maturity and params.maturity not in ("research", "pilot", "intermediate", "industrial"):
        errors["maturity"] = choice
    if params.mode and params.mode not in ("transfer", "license", "equity", "joint_development", "technical_service"):
        errors["mode"] = choice
    if params.sort not in ("relevance", "newest", "price_asc", "price_desc"):
        errors["sort"] = choice
    page, per_page = 1, 20
    for name, raw, high in (("page", params.page, 1000), ("per_page", params.per_page, MAX_PER_PAGE)):
        if raw is not None:
            if raw.isdigit() and 1 <= int(raw) <= high:
                page = int(raw) if name == "page" else page
                per_page = int(raw) if name == "per_page" else per_page
            else:
                errors[name] = _l("Must be a whole number from 1 to %(max)s.", max=high)
    if errors:
        raise ValidationFailed(fields=errors)
    labels = viewer_labels(actor)
    return SearchQuery(text=params.q, kinds=params.kinds, region=params.region, district=district,
                       field=params.field, maturity=params.maturity, mode=params.mode, sort=params.sort,
                       page=page, per_page=per_page, labels=tuple(labels) if labels is not None else None)


@service
def search(session: Session, actor: Actor, params: SearchParams) -> SearchResult:
    """Hits, totals and facet counts of what this viewer may see; visibility is part of the query
    itself, never a filter on the hits afterwards."""
    mark_checked()
    query = _query(params, actor)
    ensure_vocabulary(session)
    try:
        result = _search_engine(query)
    except SearchUnavailable as error:
        log.warning("search engine unavailable, answering from the database: %s", error)
        result = database_search(session, actor, query)
    if result.total == 0 and query.text:
        result.did_you_mean = did_you_mean(query.text)
    result.words = text.words(query.text) if query.text else []
    return result


def _search_engine(query: SearchQuery) -> SearchResult:
    """Words first; by sound when the words find nothing, or first of all when the query is a known
    term typed with the wrong characters (只能制造 for 智能制造), the commonest Chinese typo."""
    engine = backend()
    sounds_right = len(text.pinyin(query.text)) >= 4 if query.text else False
    if sounds_right and did_you_mean(query.text) and not text.is_known(text.normalize(query.text)):
        result = engine.search(query, by_pinyin=True)
        if result.total:
            return result
    result = engine.search(query)
    if result.total == 0 and sounds_right:
        by_sound = engine.search(query, by_pinyin=True)
        if by_sound.total:
            return by_sound
    return result


def did_you_mean(query: str) -> str | None:
    """A word of the portal's vocabulary that sounds like the query (只能制造 → 智能制造)."""
    normalized = text.normalize(query)
    candidates = [word for word in text.sounding_like(text.pinyin(query)) if word != normalized]
    return min(candidates, key=len) if candidates else None


@service
def suggestions(session: Session, actor: Actor, prefix: str) -> list[str]:
    """Words of the vocabulary that start like what the user typed (characters or pinyin)."""
    mark_checked()
    ensure_vocabulary(session)
    clean = text.normalize(prefix).strip()[:50]
    if not clean:
        return []
    spelled = clean.replace(" ", "") if text.looks_like_pinyin(clean) else None
    matches = [word for word, sound in text.vocabulary_pinyin().items()
               if word.startswith(clean) or (spelled and sound.startswith(spelled))]
    return sorted(matches, key=lambda word: (len(word), word))[:8]


def database_search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    """A plainer search straight on the database, for when the engine is down: same visibility, marked degraded."""
    statement = sa.select(Entry).where(visible_entries(actor))
    for word in [w for w in text.words(query.text) if len(w) > 1][:5] if query.text else []:
        pattern = f"%{word}%"
        statement = statement.where(sa.or_(Entry.title.ilike(pattern), Entry.summary.ilike(pattern)))
    if query.kinds:
        statement = statement.where(Entry.kind.in_([EntryKind(kind) for kind in query.kinds]))
    if query.region:
        statement = statement.where(Entry.region_code == query.region)
    if query.district:
        statement = statement.where(Entry.district_id == query.district)
    if query.field:
        statement = statement.where(sa.or_(Entry.field_code == query.field, Entry.field_code.in_(
            sa.select(TechnologyField.code).where(TechnologyField.parent_code == query.field))))
    if query.mode:
        statement = statement.where(sa.exists().where(EntryMode.entry_id == Entry.id, EntryMode.mode == query.mode))
    matched = statement.subquery()
    total = session.scalar(sa.select(sa.func.count()).select_from(matched)) or 0
    order = Entry.published_at.desc().nulls_last()
    entries = session.scalars(statement.options(selectinload(Entry.organization)).order_by(order, Entry.id.desc())
                              .limit(query.per_page).offset(query.offset)).all()
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for name, column in (("kind", matched.c.kind), ("region", matched.c.region_code),
                         ("district", matched.c.district_id)):
        facets[name] = {str(getattr(value, "value", value)): count for value, count in
                        session.execute(sa.select(column, sa.func.count()).group_by(column))}
    hits = [Hit(kind=e.kind.value, entry_id=e.id, title=e.title, summary=e.summary[:1000], region=e.region_code,
                district=e.district_id, field=e.field_code, organization=e.organization.name, keywords=e.keywords,
                price_fen=None, status=e.status.value) for e in entries]
    return SearchResult(hits=hits, total=total, facets=facets, backend="database", degraded=True,
                        words=text.words(query.text) if query.text else [])
