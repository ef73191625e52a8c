"""What the search index holds for an entry, and who may see it (visibility labels)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from exchange.catalog.models import Achievement, Entry, EntryKind, EntryStatus, Need, Project
from exchange.search import text

PUBLIC = "public"


def document_id(kind: EntryKind | str, entry_id: int) -> str:
    return f"{EntryKind(kind).value}-{entry_id}"


def visibility_labels(entry: Entry) -> list[str]:
    """Who may find the entry: the same rule as policy.RULES[Action.ENTRY_VIEW], as labels stored in the document."""
    labels = [f"org:{entry.organization_id}"]
    if entry.status is EntryStatus.APPROVED:
        labels.append(PUBLIC)
    if entry.status is not EntryStatus.DRAFT:
        labels.append(f"admin:{entry.region_code}")
    return labels


def viewer_labels(actor: Any) -> list[str] | None:
    """The labels an actor may see; None means everything (platform operators)."""
    if actor.is_platform_admin:
        return None
    labels = [PUBLIC]
    if actor.organization_id is not None:
        labels.append(f"org:{actor.organization_id}")
    if actor.is_regional_admin and actor.region_code:
        labels.append(f"admin:{actor.region_code}")
    return labels


def _maturity(entry: Entry) -> str | None:
    if isinstance(entry, Achievement):
        return entry.maturity.value
    if isinstance(entry, Need):
        return entry.required_maturity.value
    return None


def _price(entry: Entry) -> int | None:
    if isinstance(entry, Achievement):
        return entry.price_fen
    if isinstance(entry, Need):
        return entry.budget_max_fen
    if isinstance(entry, Project):
        return entry.budget_fen
    return None


def build_document(entry: Entry) -> dict[str, Any]:
    keywords = [text.normalize(word) for word in entry.keywords]
    title = text.normalize(entry.title)
    summary = text.normalize(entry.summary)
    return {
        "id": document_id(entry.kind, entry.id),
        "entry_id": entry.id,
        "kind": entry.kind.value,
        "title": entry.title,
        "summary": entry.summary[:1000],
        "keywords": entry.keywords,
        "organization": entry.organization.name,
        "organization_id": entry.organization_id,
        "region": entry.region_code,
        "district": entry.district_id,
        "field": entry.field_code,
        "field_parent": entry.field.parent_code or entry.field_code,
        "maturity": _maturity(entry),
        "modes": [mode.value for mode in entry.mode_values],
        "price_fen": _price(entry),
        "status": entry.status.value,
        "visibility": visibility_labels(entry),
        "published_at": int(entry.published_at.timestamp()) if entry.published_at else 0,
        # Words and their parts, so that a word inside a longer compound is found.
        "terms": " ".join(dict.fromkeys(text.words(f"{title} {' '.join(keywords)} {summary}"))),
        "title_terms": " ".join(dict.fromkeys(text.words(f"{title} {' '.join(keywords)}"))),
        "pinyin": " ".join(text.pinyin_terms([entry.title, *entry.keywords])),
    }


FACETS = ("kind", "region", "district", "field_parent", "maturity", "modes")
SORTS = {"relevance": None, "newest": ("published_at", "desc"), "price_asc": ("price_fen", "asc"),
         "price_desc": ("price_fen", "desc")}


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    kinds: tuple[str, ...] = ()
    region: str | None = None
    district: int | None = None
    field: str | None = None
    maturity: str | None = None
    mode: str | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    labels: tuple[str, ...] | None = (PUBLIC,)  # None: no visibility filter

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class Hit:
    kind: str
    entry_id: int
    title: str
    summary: str
    region: str
    district: int
    field: str
    organization: str
    keywords: list[str]
    price_fen: int | None
    status: str


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    backend: str
    degraded: bool = False
    matched_by: str = "text"  # or "pinyin", when only the pinyin of the query matched
    did_you_mean: str | None = None
    words: list[str] = field(default_factory=list)


# What a hit shows: all that an engine returns for each hit of a page.
HIT_FIELDS = ("entry_id", "kind", "title", "summary", "region", "district", "field", "organization", "keywords",
              "price_fen", "status")


def hit_from(document: dict[str, Any]) -> Hit:
    return Hit(kind=document["kind"], entry_id=document["entry_id"], title=document["title"],
               summary=document["summary"], region=document["region"], district=document["district"],
               field=document["field"], organization=document["organization"], keywords=document["keywords"],
               price_fen=document.get("price_fen"), status=document["status"])
