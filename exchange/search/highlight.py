"""Highlights that are safe: the text is escaped first, then the matched words are marked."""
from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from exchange.search import text

# Where a mark opens and closes while the text is still plain: control characters that escaping leaves alone and
# that entries never hold (any in the text are dropped first, so that only our marks become tags).
_OPEN, _CLOSE = "\x01", "\x02"


@lru_cache(maxsize=1024)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the words worth marking, longest first: compiled once per query, not per hit."""
    terms = sorted({w for w in words if w and (len(w) > 1 or not w.isascii())}, key=len, reverse=True)
    return re.compile("|".join(re.escape(term) for term in terms)) if terms else None


def highlight(value: str, words: list[str], limit: int | None = None) -> Markup:
    """`value` escaped, cut around the first match when `limit` is given, with matches in <mark>."""
    source = value or ""
    if _OPEN in source or _CLOSE in source:
        source = source.replace(_OPEN, "").replace(_CLOSE, "")
    pattern = _pattern(tuple(words))
    prefix = suffix = ""
    folded = ""  # the text folded from its beginning, as far as finding the cut needed
    if limit and len(source) > limit:
        start, folded = _cut(source, pattern, limit) if pattern else (0, "")
        prefix, suffix = ("…" if start else ""), ("…" if start + limit < len(source) else "")
        source, folded = source[start:start + limit], folded[start:start + limit]
    if pattern is None:  # browsing without words marks nothing
        marked = source
    else:
        folded += _fold(source[len(folded):])
        if folded == source:
            marked = pattern.sub(f"{_OPEN}\\g<0>{_CLOSE}", source)
        else:  # matched in the folded text, marked in the text as written: the positions are the same
            pieces, position = [], 0
            for match in pattern.finditer(folded):
                pieces += [source[position:match.start()], _OPEN, source[match.start():match.end()], _CLOSE]
                position = match.end()
            marked = "".join([*pieces, source[position:]])
    # nosemgrep: markup-on-dynamic-data — the whole text is escaped; only the <mark> tags put in are markup
    return Markup(prefix + str(escape(marked)).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>") + suffix)  # nosec B704


def _cut(source: str, pattern: re.Pattern[str], limit: int) -> tuple[int, str]:
    """Where a long text is cut (a quarter of the cut before its first match; a match near the end still fills it),
    and the text folded from its beginning as far as that took. A match found in the text as written is the first
    unless the text before it holds one that only folding shows (traditional characters, capitals): only that part
    is folded, not the whole of a long summary."""
    match = pattern.search(source)
    folded = _fold(source[:match.start()] if match else source)
    earlier = pattern.search(folded)
    first = earlier.start() if earlier else match.start() if match else 0
    return max(0, min(first - limit // 4, len(source) - limit)), folded


def _fold(source: str) -> str:
    """The text as the query's words are (simplified, half-width, lower case), character for character, so that a
    match's positions are those of the text as written. Where folding changes the length (…… becomes ......, ㎏
    becomes kg) each character is folded alone, and kept as written where it would not stay one character."""
    folded = text.normalize(source)
    if len(folded) == len(source):
        return folded
    return "".join(map(_fold_character, source))


@lru_cache(maxsize=8192)
def _fold_character(character: str) -> str:
    alone = text.normalize(character)
    return alone if len(alone) == 1 else character
