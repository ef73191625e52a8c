"""Highlights that are safe: the text is escaped first, then the matched words are marked."""
from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from exchange.search import text


@lru_cache(maxsize=1024)
def _terms(words: tuple[str, ...]) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """The words worth marking, longest first, and one pattern for them all: once per query, not per hit."""
    terms = tuple(sorted({w for w in words if w and (len(w) > 1 or not w.isascii())}, key=len, reverse=True))
    return terms, re.compile("|".join(re.escape(term) for term in terms)) if terms else None


def highlight(value: str, words: list[str], limit: int | None = None) -> Markup:
    """`value` escaped, cut around the first match when `limit` is given, with matches in <mark>."""
    source = value or ""
    terms, pattern = _terms(tuple(words))
    folded = text.normalize(source) if pattern else source  # browsing without words marks nothing
    if limit and len(source) > limit:
        first = min((folded.find(term) for term in terms if folded.find(term) >= 0), default=0)
        start = max(0, first - limit // 4)
        source, folded = source[start:start + limit], folded[start:start + limit]
        prefix, suffix = ("…" if start else ""), ("…" if start + limit < len(value) else "")
    else:
        prefix = suffix = ""
    if pattern is None or len(folded) != len(source):
        return Markup(prefix) + escape(source) + Markup(suffix)
    # Pieces as plain strings, each escaped, joined once: a Markup per piece costs more than the matching.
    pieces = [prefix]
    position = 0
    for match in pattern.finditer(folded):  # positions in the folded text are those of the source
        pieces += [str(escape(source[position:match.start()])), "<mark>",
                   str(escape(source[match.start():match.end()])), "</mark>"]
        position = match.end()
    pieces += [str(escape(source[position:])), suffix]
    return Markup("".join(pieces))
