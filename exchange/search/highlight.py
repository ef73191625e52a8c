"""Highlights that are safe: the text is escaped first, then the matched words are marked."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

from exchange.search import text


def highlight(value: str, words: list[str], limit: int | None = None) -> Markup:
    """`value` escaped, cut around the first match when `limit` is given, with matches in <mark>."""
    source = value or ""
    folded = text.normalize(source)
    terms = sorted({w for w in words if w and (len(w) > 1 or not w.isascii())}, key=len, reverse=True)
    if limit and len(source) > limit:
        first = min((folded.find(term) for term in terms if folded.find(term) >= 0), default=0)
        start = max(0, first - limit // 4)
        source, folded = source[start:start + limit], folded[start:start + limit]
        prefix, suffix = ("…" if start else ""), ("…" if start + limit < len(value) else "")
    else:
        prefix = suffix = ""
    if not terms or len(folded) != len(source):
        return Markup(prefix) + escape(source) + Markup(suffix)
    pattern = re.compile("|".join(re.escape(term) for term in terms))
    pieces: list[Markup] = [Markup(prefix)]
    position = 0
    for match in pattern.finditer(folded):  # positions in the folded text are those of the source
        pieces.append(escape(source[position:match.start()]))
        pieces.append(Markup("<mark>") + escape(source[match.start():match.end()]) + Markup("</mark>"))
        position = match.end()
    pieces.append(escape(source[position:]))
    pieces.append(Markup(suffix))
    return Markup("").join(pieces)
