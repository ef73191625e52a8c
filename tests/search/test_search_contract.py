"""One contract for both search backends: Chinese as Chinese users type it, facets, visibility."""
from __future__ import annotations

import pytest

from exchange.accounts.models import Visitor
from exchange.search import services
from exchange.search.services import SearchParams
from tests import factories


def titles(db, actor, **params):  # type: ignore[no-untyped-def]
    result = services.search(db, actor, SearchParams(**params))
    return {hit.title for hit in result.hits}, result


@pytest.fixture
def corpus(db, index_now):
    owner = factories.organization(db, kind="institute", region="TJ").owner
    made = {
        "battery": factories.entry(db, "achievement", owner=owner, title="高安全固态锂电池电解质膜",
                                   keywords=["固态电池", "电解质"]),
        "wide_bandgap": factories.entry(db, "achievement", owner=owner, title="第三代半导体 SiC 功率器件封装",
                                        keywords=["碳化硅", "功率器件"], field="materials.wide-bandgap"),
        "alloy": factories.entry(db, "achievement", owner=owner, title="航空发动机用钛合金精密铸造",
                                 keywords=["钛合金"], field="materials.3d-printing"),
        "ai": factories.entry(db, "achievement", owner=owner, title="工业质检 AI 视觉检测系统",
                              keywords=["机器视觉", "AI"], field="ngit.ai"),
        "traditional": factories.entry(db, "achievement", owner=owner, title="鋰離子電池回收技術",
                                       keywords=["回收"]),
        "driving": factories.entry(db, "need", region="HE", title="港口自动驾驶集卡感知方案",
                                   keywords=["自动驾驶", "激光雷达"], field="nev.connected-driving"),
        "smart": factories.entry(db, "need", region="BJ", title="离散行业智能制造执行系统",
                                 keywords=["智能制造"], field="smart-mfg.industrial-software"),
    }
    index_now()
    return {name: entry.title for name, entry in made.items()}


@pytest.mark.parametrize("query, expected", [
    ("电池", "battery"),            # a word inside a longer compound
    ("导体", "wide_bandgap"),
    ("合金", "alloy"),
    ("鋰電池", "battery"),           # traditional finds simplified
    ("锂离子电池", "traditional"),     # and simplified finds traditional
    ("固太电池", "battery"),          # a homophone typo from the pinyin input method
    ("自动驾使", "driving"),
    ("激光雷打", "driving"),
    ("gutaidianchi", "battery"),    # pinyin typed without switching input
    ("人工智能", "ai"),              # a configured synonym
    ("SiC 功率器件", "wide_bandgap"),  # mixed Chinese and English
])
def test_chinese_queries_find_what_a_chinese_user_means(db, corpus, query, expected):
    found, result = titles(db, Visitor(), q=query)
    assert corpus[expected] in found, (query, found, result.backend)


def test_an_empty_index_answers_nothing_without_falling_back(db, index_now):
    index_now()
    for query in ("电池", "gutaidianchi", "只能制造", ""):
        result = services.search(db, Visitor(), SearchParams(q=query))
        assert result.total == 0 and not result.degraded and result.backend != "database", query


def test_nothing_found_suggests_a_term_of_the_portals_vocabulary(db, corpus):
    found, result = titles(db, Visitor(), q="只能制造")
    assert corpus["smart"] in found or result.did_you_mean == "智能制造"


def test_an_unknown_word_gets_an_empty_answer_not_an_error(db, corpus):
    found, result = titles(db, Visitor(), q="量子引力波望远镜")
    assert found == set() and result.total == 0


def test_facets_count_what_matches_for_this_viewer_and_filters_narrow(db, corpus):
    everything = services.search(db, Visitor(), SearchParams())
    assert everything.total == 7
    assert everything.facets["kind"] == {"achievement": 5, "need": 2}
    assert everything.facets["region"] == {"TJ": 5, "HE": 1, "BJ": 1}
    hebei_needs = services.search(db, Visitor(), SearchParams(kinds=("need",), region="HE"))
    assert {hit.title for hit in hebei_needs.hits} == {corpus["driving"]} and hebei_needs.total == 1
    materials = services.search(db, Visitor(), SearchParams(field="materials"))
    assert {hit.title for hit in materials.hits} == {corpus["wide_bandgap"], corpus["alloy"]}


def test_visibility_is_part_of_the_query_so_totals_and_facets_are_right(db, index_now):
    owner = factories.organization(db, kind="institute", region="HE").owner
    for status in ("approved", "draft", "submitted", "rejected"):
        factories.entry(db, "achievement", owner=owner, status=status, title=f"石墨烯导热膜{status}",
                        keywords=["石墨烯"], field="materials.graphene")
    index_now()
    viewers = {
        "anonymous": (Visitor(), 1),
        "owner": (owner, 4),
        "admin of Hebei": (factories.region_admin(db, "HE"), 3),
        "admin of Beijing": (factories.admin(db, "BJ"), 1),
        "platform": (factories.platform_admin(db), 4),
    }
    for name, (viewer, expected) in viewers.items():
        result = services.search(db, viewer, SearchParams(q="石墨烯"))
        assert result.total == expected == len(result.hits), name
        assert sum(result.facets["kind"].values()) == expected, name


def test_changes_reach_the_index_through_the_outbox(db, index_now):
    from exchange.catalog.services import change_status, delete_entry

    owner = factories.organization(db, kind="institute", region="BJ").owner
    draft = factories.entry(db, "achievement", owner=owner, status="draft", title="量子点显示材料")
    published = factories.entry(db, "achievement", owner=owner, title="氢燃料电池双极板涂层")
    index_now()
    assert titles(db, Visitor(), q="双极板")[0] == {"氢燃料电池双极板涂层"}

    change_status(db, owner, None, published.id, "withdraw")
    delete_entry(db, owner, draft.kind, draft.id)
    index_now()

    assert titles(db, Visitor(), q="双极板")[0] == set()
    assert titles(db, owner, q="量子点")[0] == set()
    assert titles(db, owner, q="双极板")[0] == {"氢燃料电池双极板涂层"}  # the owner still finds it


def test_reindex_rebuilds_the_index_to_equal_the_database(db, corpus):
    from exchange.search.services import backend, reindex

    backend().delete(["achievement-1"])  # the index has drifted
    assert reindex(db) == 7
    assert services.search(db, Visitor(), SearchParams()).total == 7


def test_the_api_answers_as_the_page_and_says_which_backend_answered(app, db, corpus):
    client = app.test_client()
    answer = client.get("/api/v1/search", query_string={"q": "电池"}).get_json()
    assert answer["backend"] in ("embedded", "meilisearch") and answer["degraded"] is False
    assert corpus["battery"] in [hit["title"] for hit in answer["hits"]]
    assert "<mark>" in "".join(hit["title_html"] for hit in answer["hits"])
    page = client.get("/search", query_string={"q": "电池"}).get_data(as_text=True)
    assert corpus["battery"].replace("电池", "<mark>电池</mark>") in page


def test_the_api_answer_is_exactly_what_its_schema_documents(app, db, corpus):
    from exchange.search.api import SearchAnswerSchema

    for params in ({"q": "电池", "per_page": "3"}, {"q": "gutaidianchi"}, {"q": "只能制造"}, {"region": "TJ"}):
        answer = app.test_client().get("/api/v1/search", query_string=params).get_json()
        assert answer["hits"] or answer["did_you_mean"], params
        assert SearchAnswerSchema().validate(answer) == {}, params  # no field missing, none extra


def test_highlights_never_let_html_through(app, db, index_now):
    factories.entry(db, "achievement", region="BJ", title="<script>alert(1)</script>锂电池")
    index_now()
    page = app.test_client().get("/search", query_string={"q": "锂电池"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>锂电池</mark>" in page


@pytest.mark.parametrize("params", [{"sort": "loudest"}, {"region": "SH"}, {"per_page": "1000"},
                                    {"kind": "gossip"}, {"q": "x" * 500}, {"district": "1 OR 1=1"},
                                    {"field": 'nev" OR status = "draft'}])
def test_bad_parameters_get_a_clear_422(app, db, params):
    response = app.test_client().get("/api/v1/search", query_string=params)
    assert response.status_code == 422 and response.get_json()["error"]["fields"]


def test_suggestions_complete_characters_and_pinyin(app, db, corpus):
    client = app.test_client()
    assert "固态电池" in client.get("/api/v1/search/suggest", query_string={"q": "固态"}).get_json()["suggestions"]
    assert "固态电池" in client.get("/api/v1/search/suggest", query_string={"q": "gutai"}).get_json()["suggestions"]
