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
_by_sound: dict[str, list[str]] = {}  # pinyin → the words that sound so, for "did you mean" without a scan

_HAN = re.compile(r"[\u3400-\u9fff]")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_FULL_WIDTH = re.compile("[\uff01-\uff5e]")  # ！ to ～: what NFKC maps to ASCII by subtracting 0xFEE0
_WORD = re.compile(r"[\w\u3400-\u9fff]+", re.UNICODE)


def normalize(text: str) -> str:
    """Full-width to half-width, traditional to simplified, Latin to lower case."""
    # Chinese text is full of full-width punctuation (，％：), which sends NFKC down its slow path over the whole
    # string; mapped first to the ASCII that NFKC gives them, most texts pass NFKC's quick check untouched.
    half_width = _FULL_WIDTH.sub(lambda wide: chr(ord(wide.group()) - 0xFEE0), text or "")
    folded = unicodedata.normalize("NFKC", half_width)
    return _to_simplified.convert(folded).lower()


def learn_vocabulary(words: Iterable[str]) -> None:
    """Teach the segmenter domain words so that they are kept whole (and found inside longer ones)."""
    with _vocabulary_lock:
        for word in words:
            clean = normalize(word).strip()
            if 2 <= len(clean) <= 20 and clean not in _vocabulary and _HAN.search(clean):
                _vocabulary[clean] = pinyin(clean)
                _by_sound.setdefault(_vocabulary[clean], []).append(clean)
                _tokenizer.add_word(clean, freq=20000)
        _segment.cache_clear()


def vocabulary() -> set[str]:
    return set(_vocabulary)


def vocabulary_pinyin() -> dict[str, str]:
    return dict(_vocabulary)


def is_known(word: str) -> bool:
    return word in _vocabulary


def sounding_like(spelled: str) -> list[str]:
    """The words of the vocabulary whose pinyin is exactly this."""
    return list(_by_sound.get(spelled, ()))


@lru_cache(maxsize=20000)
def _segment(text: str) -> tuple[str, ...]:
    return tuple(token.strip() for token in _tokenizer.cut_for_search(text) if _WORD.fullmatch(token.strip()))


def words(text: str) -> list[str]:
    """The words of a text, long words followed by their shorter parts."""
    return list(_segment(normalize(text)))


@lru_cache(maxsize=20000)
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


# Meilisearch's `dictionary` setting ------------------------------------------------------------------------

def engine_dictionary(vocabulary: Iterable[str]) -> list[str]:
    """What Meilisearch's `dictionary` setting needs of the vocabulary: the words its Chinese segmenter would
    otherwise cut down to single characters. The setting costs time on every query in proportion to its size,
    and a word the segmenter cuts into words (动力电池 → 动力 电池) is found as well without it.

    Meilisearch 1.21's segmenter (charabia) keeps the words of the setting whole, leftmost and longest first;
    cuts the rest with jieba's default dictionary, without HMM; and cuts every piece longer than two characters
    again, greedily, into known pairs, then known triples, then single characters (锂电池 → 锂电 池). The setting
    gets each piece of a word that this would cut down to a character (锂电池 of 固态锂电池, 高性能 of
    高性能电池), and the word itself when that is not enough (车规级芯片: jieba leaves 级 alone)."""
    segmenter = _EngineSegmenter()
    words = sorted({word for word in vocabulary if _HAN.search(word)}, key=len)
    while True:  # until nothing changes: a word kept whole can leave a single character beside it in another
        before = len(segmenter.dictionary)
        for word in words:
            if not segmenter.leaves_a_character(word):
                continue
            pieces = segmenter.default.lcut(word, HMM=False)
            broken = [piece for piece in pieces if len(piece) > 2 and segmenter.leaves_a_character(piece)]
            if broken and not any(len(piece) == 1 and _HAN.match(piece) for piece in pieces):
                for piece in broken:
                    segmenter.keep(piece)
            else:
                segmenter.keep(word)
        if len(segmenter.dictionary) == before:
            return sorted(segmenter.dictionary)


class _EngineSegmenter:
    """Meilisearch's Chinese segmentation as engine_dictionary describes it, with the dictionary kept so far."""

    def __init__(self) -> None:
        self.default = jieba.Tokenizer()  # jieba's own dictionary, as Meilisearch has it
        self.dictionary: set[str] = set()
        self.longest = 0

    def keep(self, word: str) -> None:
        self.dictionary.add(word)
        self.longest = max(self.longest, len(word))

    def leaves_a_character(self, text: str) -> bool:
        """Whether the segmenter cuts a single Chinese character out of the text."""
        for run in _HAN_RUN.findall(text):  # other scripts are segmented apart
            gap = position = 0
            while position < len(run):
                whole = self._dictionary_word_at(run, position)
                if whole is None:
                    position += 1
                    continue
                if self._jieba_leaves_a_character(run[gap:position]):
                    return True
                position += len(whole)
                gap = position
            if self._jieba_leaves_a_character(run[gap:]):
                return True
        return False

    def _dictionary_word_at(self, run: str, position: int) -> str | None:
        for size in range(min(self.longest, len(run) - position), 1, -1):  # the longest first
            if run[position:position + size] in self.dictionary:
                return run[position:position + size]
        return None

    def _jieba_leaves_a_character(self, text: str) -> bool:
        for piece in self.default.cut(text, HMM=False):
            if len(piece) == 1:
                return True
            position = 0
            while len(piece) > 2 and position < len(piece):  # longer pieces are cut again, greedily
                pair, triple = piece[position:position + 2], piece[position:position + 3]
                if len(pair) == 2 and self._known(pair):
                    position += 2
                elif len(triple) == 3 and self._known(triple):
                    position += 3
                else:
                    return True
        return False

    def _known(self, word: str) -> bool:
        return self.default.FREQ.get(word, 0) > 0
