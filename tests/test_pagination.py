"""The filters of a list, read from a query string the same way on every page."""
from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from exchange.pagination import ListFilters


@dataclass(frozen=True)
class Filters(ListFilters):
    region: str | None = None
    program: int | None = None
    unsettled: bool = False


def test_each_filter_reads_the_parameter_of_its_name_and_blank_is_no_filter():
    filters = Filters.from_args(MultiDict({"region": "TJ", "program": "", "unsettled": "1", "other": "x"}))
    assert filters == Filters(region="TJ", program=None, unsettled=False)


def test_an_id_that_is_no_whole_number_filters_nothing():
    assert Filters.from_args(MultiDict({"program": "12"})).program == 12
    assert Filters.from_args(MultiDict({"program": "12abc"})).program is None
    assert Filters.from_args(MultiDict({"program": "9" * 19})).program is None


def test_a_page_reads_only_the_filters_it_offers():
    assert Filters.from_args(MultiDict({"region": "TJ", "program": "3"}), "program") == Filters(program=3)

