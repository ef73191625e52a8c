"""Chinese text as a search engine needs it: simplified characters, words, pinyin.

Traditional characters are folded to simplified before indexing and before querying
(鋰電池 finds 锂电池); words are cut with jieba, whose dictionary learns the portal's own
vocabulary (field names, keywords), and long words are also indexed by their parts
(电池 finds 固态锂电池); pinyin of every word and phrase lets a homophone typo from the
pinyin input method (固太电池) or pinyin typed as such (gutaidianchi) find the right term.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import jieba
import opencc
from pypinyin import Style, lazy_pinyin

jieba.setLogLevel(logging.WARNING)

_to_simplified = opencc.OpenCC("t2s")
_tokenizer = jieba.Tokenizer()
_vocabulary_lock = threading.Lock()
_vocabulary: dict[str, str] = {}  # word → its pinyin

_HAN = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[\w\u3400-\u9fff]+", re.UNICODE)


def normalize(text: str) -> str:
    """Full-width to half-width, traditional to simplified, Latin to lower case."""
    folded = unicodedata.normalize("NFKC", text or "")
    return _to_simplified.convert(folded).lower()


def learn_vocabulary(words: Iterable[str]) -> None:
    """Teach the segmenter domain words so that they are kept whole (and found inside longer ones)."""
    with _vocabulary_lock:
        for word in words:
            clean = normalize(word).strip()
            if 2 <= len(clean) <= 20 and clean not in _vocabulary and _HAN.search(clean):
                _vocabulary[clean] = pinyin(clean)
                _tokenizer.add_word(clean, freq=20000)
        _segment.cache_clear()


def vocabulary() -> set[str]:
    return set(_vocabulary)


def vocabulary_pinyin() -> dict[str, str]:
    return dict(_vocabulary)


@lru_cache(maxsize=20000)
def _segment(text: str) -> tuple[str, ...]:
    return tuple(token.strip() for token in _tokenizer.cut_for_search(text) if _WORD.fullmatch(token.strip()))


def words(text: str) -> list[str]:
    """The words of a text, long words followed by their shorter parts."""
    return list(_segment(normalize(text)))


def pinyin(text: str) -> str:
    """Toneless pinyin with no spaces: 固态电池 → gutaidianchi (Latin is kept as it is)."""
    return "".join(lazy_pinyin(normalize(text), style=Style.NORMAL, errors="default")).replace(" ", "")


def pinyin_terms(phrases: Iterable[str]) -> list[str]:
    """Pinyin of each Chinese phrase and of each of its words, for homophone-tolerant matching."""
    terms: dict[str, None] = {}
    for phrase in phrases:
        for part in [phrase, *words(phrase)]:
            if _HAN.search(part):
                spelled = pinyin(part)
                if len(spelled) >= 4:
                    terms[spelled] = None
    return list(terms)


def looks_like_pinyin(query: str) -> bool:
    return bool(re.fullmatch(r"[a-z]{4,40}", query.replace(" ", "")))
