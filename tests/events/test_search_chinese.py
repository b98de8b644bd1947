"""Chinese search: Traditional folded into Simplified, Han runs cut into bigrams (events.search).

Readers search through the API as anonymous visitors; the search text is written by the service
the curators' saves use, and rewritten for events saved before bigrams by migration 0014.
"""

import importlib
import re
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from events import search
from events.models import Event
from events.querysets import public_version
from events.services import event_search_refresh, events_search_rebuild
from events.services import events as event_services
from events.services.synthetic import events_generate
from tests.factories import EventFactory, EventTypeFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/events/"
MIGRATION = "0014_search_text_chinese_bigrams"
rebuild_migration = importlib.import_module(f"events.migrations.{MIGRATION}")


@pytest.fixture(autouse=True)
def empty_throttle_history():
    """Start every test with no recorded requests, so the API never throttles a test."""
    cache.clear()
    yield
    cache.clear()


def indexed(*events):
    event_search_refresh(event_ids=[event.pk for event in events])
    return events


def listed(client, q):
    """Return the public ids an anonymous reader finds for a query, all on one page."""
    response = client.get(API, {"q": q, "page_size": 1000})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def in_chinese(original, language="zh-hans", **fields):
    return EventFactory(
        published=True, summary_original=original, original_language=language, **fields
    )


# What a word is --------------------------------------------------------------------------------


def test_traditional_han_is_stored_as_simplified_bigrams():
    assert search.search_document("封鎖微信公眾號") == " 封锁 锁微 微信 信公 公众 众号"


def test_a_chinese_query_asks_for_each_bigram():
    assert search.query_words("公众号") == ["公众", "众号"]
    assert search.query_words("公眾號") == ["公众", "众号"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("微", ["微"], id="one-character-run"),
        pytest.param("微信", ["微信"], id="two-character-run"),
        pytest.param("WeChat微信账号", ["wechat", "微信", "信账", "账号"], id="latin-then-han"),
        pytest.param("封号VPN服务", ["封号", "vpn", "服务"], id="han-latin-han"),
        pytest.param("Ürümqi arrested_bloggers", ["ürümqi", "arrested", "bloggers"], id="latin"),
    ],
)
def test_runs_of_han_and_of_other_letters_are_separate_words(text, expected):
    assert search.words(text) == expected


def test_a_ten_character_chinese_query_keeps_its_nine_bigrams_and_a_few_words():
    terms = search.query_words("国家互联网信息办公室 summons wechat tencent")

    assert terms[:9] == ["国家", "家互", "互联", "联网", "网信", "信息", "息办", "办公", "公室"]
    assert terms[9:] == ["summons", "wechat", "tencent"]


def test_a_long_chinese_query_is_cut_at_the_most_words_a_query_may_have():
    sixty_four_characters = "".join(map(chr, range(0x4E00, 0x4E40)))

    assert len(search.query_words(sixty_four_characters)) == search.MAX_QUERY_WORDS


# What readers find -----------------------------------------------------------------------------


def test_q_finds_an_event_by_the_middle_of_its_original_summary(client):
    account, public_figure = indexed(
        in_chinese("网信办关闭了一批微信公众号。", title="WeChat public accounts closed"),
        in_chinese("一名公众人物被拘留。", title="A public figure detained"),
    )

    assert listed(client, "公众号") == {account.public_id}
    assert listed(client, "微信") == {account.public_id}
    assert listed(client, "公众") == {account.public_id, public_figure.public_id}


@pytest.mark.parametrize(
    ("written", "language", "asked"),
    [
        pytest.param("加强审查微博内容", "zh-hans", "審查", id="traditional-finds-simplified"),
        pytest.param("加強審查微博內容", "zh-hant", "审查", id="simplified-finds-traditional"),
        pytest.param("關閉微信群組", "zh-hant", "关闭微信", id="simplified-phrase"),
        pytest.param("关闭微信群组", "zh-hans", "關閉微信群組", id="traditional-phrase"),
    ],
)
def test_traditional_and_simplified_characters_find_each_other(client, written, language, asked):
    (event,) = indexed(in_chinese(written, language))

    assert listed(client, asked) == {event.public_id}


def test_a_one_character_query_finds_the_character_at_the_start_of_a_bigram(client):
    wechat, alone, _other = indexed(
        in_chinese("微信账号被封"), in_chinese("封号: 微"), in_chinese("抖音账号被封")
    )

    assert listed(client, "微") == {wechat.public_id, alone.public_id}


def test_mixed_script_text_is_found_by_either_script(client):
    (event,) = indexed(EventFactory(published=True, title="Tencent suspends WeChat微信账号"))

    assert listed(client, "wechat") == {event.public_id}
    assert listed(client, "账号") == {event.public_id}
    assert listed(client, "wechat 微信账号") == {event.public_id}
    assert listed(client, "chat") == set()  # still the start of a word only


def test_english_search_is_unchanged(client):
    arrested, chinese = indexed(
        EventFactory(published=True, summary="Officials arrested three journalists."),
        in_chinese("官员逮捕了三名记者。", summary="Officials detained three reporters."),
    )

    assert listed(client, "arrest") == {arrested.public_id}
    assert listed(client, "rrested") == set()
    assert listed(client, "officials three") == {arrested.public_id, chinese.public_id}
    assert listed(client, "officials 记者") == {chinese.public_id}


def test_readers_never_find_a_draft_by_its_chinese_text(client):
    draft = EventFactory(summary_original="微信公众号被删除", original_language="zh-hans")
    public, _ = indexed(in_chinese("微博账号被删除"), draft)

    assert listed(client, "被删除") == {public.public_id}
    assert listed(client, "公众号") == set()
    assert Event.objects.matching("公众号").get() == draft  # the curators' admin still finds it


# Rewriting the search text -----------------------------------------------------------------


OLD_WORD = re.compile(r"[^\W_]+")  # events.search before bigrams: a Han run was one word


def old_search_text(event):
    """Return the search text as written before bigrams."""
    parts = event_services._searchable_words(event)
    return " " + " ".join(OLD_WORD.findall(" ".join(parts).casefold()))


def test_the_migration_rewrites_search_text_written_before_bigrams(client, monkeypatch):
    chinese = indexed(
        in_chinese("封鎖微信公眾號", "zh-hant", title="Accounts closed"),
        in_chinese("关闭微博账号", title="Weibo accounts closed"),
        in_chinese("审查微信文章", title="Articles reviewed"),
    )
    (english,) = indexed(EventFactory(published=True, title="Bloggers detained"))
    for event in chinese:
        Event.objects.filter(pk=event.pk).update(search_text=old_search_text(event))
    # Not what its words give, and left so: text without Han characters is never read.
    Event.objects.filter(pk=english.pk).update(search_text=" stale")
    assert not Event.objects.matching("公众号").exists()
    monkeypatch.setattr(event_services, "SEARCH_BATCH", 2)  # several batches of ids
    apps = MigrationExecutor(connection).loader.project_state(("events", MIGRATION)).apps
    version = public_version()

    rebuild_migration.rebuild(apps, SimpleNamespace(connection=connection))

    assert public_version() > version  # cached searches and their ETags are not served again
    rewritten = Event.objects.get(pk=chinese[0].pk).search_text
    assert rewritten == " accounts closed something happened 封锁 锁微 微信 信公 公众 众号"
    assert listed(client, "公众号") == {chinese[0].public_id}
    assert listed(client, "微信") == {chinese[0].public_id, chinese[2].public_id}
    assert listed(client, "账号") == {chinese[1].public_id}
    assert Event.objects.get(pk=english.pk).search_text == " stale"


def test_the_rebuild_writes_only_events_whose_words_changed():
    english = EventFactory(published=True, title="Bloggers detained")
    chinese = EventFactory(
        published=True, title="Chats closed", title_original="關閉", original_language="zh-hant"
    )
    indexed(english, chinese)
    Event.objects.filter(pk=english.pk).update(search_text=" something happened bloggers detained")
    Event.objects.filter(pk=chinese.pk).update(search_text=" chats closed something happened 關閉")

    assert events_search_rebuild() == 1
    assert Event.objects.get(pk=english.pk).search_text == " something happened bloggers detained"
    assert Event.objects.get(pk=chinese.pk).search_text.split()[-1] == "关闭"


# PostgreSQL's index ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_chinese_query_is_served_by_the_gin_index():
    EventTypeFactory()
    events_generate(count=1000, seed=1, actors=40, platforms=10, sources=100)
    with connection.cursor() as cursor:
        # The rows just written wait in the index's pending list, which the planner prices
        # high; VACUUM would move them into the index, but cannot run in a test's transaction.
        cursor.execute("SELECT gin_clean_pending_list('event_search_vector_idx')")
        cursor.execute("ANALYZE events_event")
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test's transaction only
    found = Event.objects.published().matching("微信")

    assert found.exists()
    assert "event_search_vector_idx" in found.explain()
