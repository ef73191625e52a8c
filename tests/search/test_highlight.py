"""Highlights: the text escaped, the query's words marked, long texts cut around the first match."""
from __future__ import annotations

from typing import Any

import pytest

from exchange.search.highlight import highlight



@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Plain functions: no search backend, so not once per backend as the other search tests."""
    return {}


FILLER = "本项目面向京津冀地区企业提供技术服务。" * 10  # 190 characters without the words below


def test_words_are_marked_wherever_they_occur():
    assert str(highlight("固态锂电池与锂电池回收", ["锂电池"])) == "固态<mark>锂电池</mark>与<mark>锂电池</mark>回收"


def test_the_longest_word_wins_where_words_overlap():
    assert str(highlight("固态锂电池", ["锂电池", "电池"])) == "固态<mark>锂电池</mark>"


def test_traditional_text_is_marked_for_simplified_words():
    assert str(highlight("鋰電池回收", ["锂电池"])) == "<mark>鋰電池</mark>回收"


def test_a_long_text_is_cut_around_its_first_match():
    snippet = str(highlight(FILLER + "固态锂电池电解质膜" + FILLER, ["锂电池"], limit=40))
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>锂电池</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 40 + 2  # the cut and its two ellipses


def test_a_long_traditional_text_is_cut_around_its_first_match_too():
    snippet = str(highlight(FILLER + "鋰電池回收技術" + FILLER, ["锂电池"], limit=40))
    assert "<mark>鋰電池</mark>" in snippet and snippet.startswith("…")


def test_a_long_text_without_a_match_shows_its_beginning():
    snippet = str(highlight(FILLER, ["锂电池"], limit=40))
    assert snippet == FILLER[:40] + "…"


def test_a_short_text_is_not_cut():
    assert str(highlight("固态锂电池", ["锂电池"], limit=40)) == "固态<mark>锂电池</mark>"


def test_browsing_without_words_marks_nothing_and_still_escapes():
    assert str(highlight("<b>锂电池</b>", [])) == "&lt;b&gt;锂电池&lt;/b&gt;"


def test_only_the_highlighters_own_marks_become_tags():
    marked = str(highlight("\x01<i>\x02锂电池\x01", ["锂电池"]))
    assert marked == "&lt;i&gt;<mark>锂电池</mark>"


def test_a_long_text_is_cut_around_a_first_match_that_only_folding_shows():
    for written, word in (("AI芯片", "ai"), ("鋰電池", "锂电池")):
        snippet = str(highlight(written + FILLER + word, [word], limit=40))
        assert snippet.startswith(f"<mark>{written[:len(word)]}</mark>"), (written, snippet)


def test_a_match_near_the_end_still_fills_the_cut():
    snippet = str(highlight(FILLER + "锂电池", ["锂电池"], limit=40))
    assert snippet.startswith("…") and snippet.endswith("<mark>锂电池</mark>")
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 40 + 1


def test_characters_that_fold_to_several_do_not_shift_or_lose_the_marks():
    assert str(highlight("锂电池……回收", ["锂电池"])) == "<mark>锂电池</mark>……回收"
    assert str(highlight("5㎏鋰電池……", ["锂电池"])) == "5㎏<mark>鋰電池</mark>……"
    snippet = str(highlight("㎏" * 100 + "锂电池" + "①" * 100, ["锂电池"], limit=40))
    assert "<mark>锂电池</mark>" in snippet
