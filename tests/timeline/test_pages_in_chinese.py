"""Every public page in Simplified Chinese, as an anonymous reader gets it under /zh-hans/.

What a reader sees or hears (the text, and the aria-label, title, alt and placeholder that a
screen reader or a tooltip says) holds no English word but the data curators wrote, the event
ids, and the few names a Chinese page keeps as they are. The same pages in English hold no
Chinese but their data.
"""
# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import datetime
import gettext
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from django.utils import translation

from events.choices import CountQualifier, CountUnit, EventStatus, RelationType, Role, Verification
from events.models import ActorAlias, EventCount, EventRelation, PlatformAlias
from events.services.releases import release_make
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)
from timeline import pages

pytestmark = pytest.mark.django_db

# Names a Chinese page writes as they are, as Chinese technical writing does: formats, tools
# and standards (the API, CSV, BibTeX ...), the licence's code (CC BY 4.0), file sizes (KB),
# and "English" in the language switcher, which names each language in itself.
KEPT_AS_THEY_ARE = (
    "Frictionless Data Package",
    "CC BY",
    "CSL-JSON",
    "SHA-256",
    "TimelineJS",
    "OpenAPI",
    "NDJSON",
    "BibTeX",
    "Zotero",
    "Pandoc",
    "pandas",
    "Python",
    "README",
    "Atom",
    "JSON",
    "CSV",
    "API",
    "zip",
    "KB",
    "English",
)
# Chinese an English page shows on purpose: the switcher's name for Chinese, and the aliases
# that the release's table descriptions give as examples (习近平 for Xi Jinping).
CHINESE_ON_ENGLISH_PAGES = ("简体中文", "习近平", "微信")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
CHINESE = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")
PUBLIC_ID = re.compile(r"[A-Z]{2}-[0-9]{4}-[0-9]{4,}")
RELEASE_FILE = re.compile(r"[\w-]+\.(?:csv|json|cff|md|zip)\b")  # a release's files, by name
WEB_ADDRESS = re.compile(r"https?://[\x21-\x7e]+")  # the event's address, in its reference


class Readable(HTMLParser):
    """What a reader sees or hears on a page: its text, and the attributes said aloud or
    shown on hover; not code (BibTeX, CSL-JSON, the embed snippet, commands), nor scripts,
    styles or the map's outlines (attributes no one reads)."""

    CODE = {"script", "style", "pre", "code", "textarea"}
    SAID = {"aria-label", "title", "alt", "placeholder"}

    def __init__(self):
        super().__init__()
        self.parts = []
        self.in_code = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.in_code += tag in self.CODE
        self.parts += [value for name, value in attrs.items() if name in self.SAID and value]
        if tag == "meta" and attrs.get("name") == "description":
            self.parts.append(attrs["content"])

    def handle_endtag(self, tag):
        self.in_code -= tag in self.CODE

    def handle_data(self, data):
        if not self.in_code:
            self.parts.append(data)


def readable(response):
    parser = Readable()
    parser.feed(response.content.decode())
    return "\n".join(parser.parts)


def without(text, data):
    """Return the text without the data shown in it, longest first, nor ids and addresses."""
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    for pattern in (WEB_ADDRESS, RELEASE_FILE, PUBLIC_ID):
        text = pattern.sub(" ", text)
    return text


def english_left(response, data):
    text = without(readable(response), data)
    for name in KEPT_AS_THEY_ARE:
        text = re.sub(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", " ", text)
    return sorted(set(ENGLISH_WORD.findall(text)))


def chinese_left(response, data):
    text = without(readable(response), data)
    for name in CHINESE_ON_ENGLISH_PAGES:
        text = text.replace(name, " ")
    return sorted(set(CHINESE.findall(text)))


@dataclass
class Timeline:
    """Published events with everything a page shows, and the data they show."""

    ids: dict = field(default_factory=dict)
    data: list = field(default_factory=list)

    def shown(self, *values):
        self.data += [value for value in values if value]


def published(timeline, key, **fields):
    event = EventFactory(published=True, **fields)
    timeline.ids[key] = event.public_id
    timeline.shown(
        event.title,
        event.title_original,
        event.summary,
        event.summary_original,
        event.locality,
        event.retraction_reason,
    )
    return event


@pytest.fixture
def timeline(db):
    site = Timeline()
    category = EventCategoryFactory(name="内容管控", slug="content-control")
    removal = EventTypeFactory(category=category, name="删除账号", slug="account-removal")
    shutdown = EventTypeFactory(category=category, name="断网", slug="shutdown")
    tencent = ActorFactory(
        name="腾讯",
        slug="tencent",
        kind="company",
        description="中国互联网公司。",
        url="https://www.tencent.com/",
        wikidata_id="Q860580",
    )
    ActorAlias.objects.create(actor=tencent, name="腾讯控股")
    regulator = ActorFactory(name="国家互联网信息办公室", slug="cac", kind="agency")
    wechat = PlatformFactory(
        name="微信", slug="wechat", operator=tencent, url="https://weixin.qq.com/"
    )
    PlatformAlias.objects.create(platform=wechat, name="WeChat")
    tag = TagFactory(name="即时通讯", slug="instant-messaging")
    site.shown(
        "内容管控",
        "删除账号",
        "断网",
        "腾讯",
        "中国互联网公司。",
        "腾讯控股",
        "国家互联网信息办公室",
        "微信",
        "WeChat",
        "即时通讯",
    )

    removed = published(
        site,
        "removed",
        title="Public accounts removed",
        title_original="微信公众号被删除",
        summary="More than forty public accounts were removed.",
        summary_original="四十多个公众号被删除。",
        original_language="zh-hans",
        event_type=removal,
        date_text="2014-03",
        locality="北京",
        verification=Verification.CORROBORATED,
    )
    removed.platforms.add(wechat)
    removed.tags.add(tag)
    EventActorFactory(event=removed, actor=regulator, role=Role.ORDERED, note="下达删除命令")
    EventActorFactory(event=removed, actor=tencent, role=Role.OPERATED_PLATFORM)
    EventCount.objects.create(
        event=removed,
        qualifier=CountQualifier.MORE_THAN,
        quantity=40,
        unit=CountUnit.ACCOUNTS,
        note="据报道",
    )
    report = SourceFactory(
        title="公众号遭清理",
        publisher="示例新闻",
        published_on=datetime.date(2014, 3, 14),
        archive_url="https://web.archive.org/web/2014/https://news.example.org/a",
        language="zh-hans",
    )
    notice = SourceFactory(title="官方通知", publisher="", url="")
    CitationFactory(event=removed, source=report, quote="四十多个账号被删除", locator="第6段")
    CitationFactory(event=removed, source=notice, quote="", locator="第2条")
    site.shown("下达删除命令", "据报道", "公众号遭清理", "示例新闻", "四十多个账号被删除")
    site.shown("第6段", "官方通知", "第2条")

    filtering = published(
        site,
        "filtering",
        title="关键词过滤",
        summary="更多关键词被过滤。",
        event_type=removal,
        date_text="2014-04~",
    )
    filtering.platforms.add(wechat)
    cut = published(
        site,
        "cut",
        title="乌鲁木齐断网",
        summary="全区断网。",
        event_type=shutdown,
        date_text="2009-07-07/..",
        locality="乌鲁木齐",
    )
    published(
        site,
        "global",
        title="全球性事件",
        summary="波及全球。",
        event_type=removal,
        is_global=True,
        country="",
    )
    published(
        site, "later", title="又一起事件", summary="一句话。", event_type=shutdown, date_text="2015"
    )
    EventRelation.objects.create(
        from_event=removed, to_event=cut, relation_type=RelationType.PART_OF, note="同一轮整治"
    )
    EventRelation.objects.create(
        from_event=filtering, to_event=removed, relation_type=RelationType.PRECEDES
    )
    site.shown("同一轮整治")
    retracted = EventFactory(
        status=EventStatus.RETRACTED, title="错误的事件", retraction_reason="经核实有误。"
    )
    site.ids["retracted"] = retracted.public_id
    site.shown("错误的事件", "经核实有误。")
    return site


# Each page a reader can reach, and how it answers. Typed names are data too.
PAGES = {
    "timeline": ("/", 200),
    "filtered": (
        "/?platform=wechat&country=CN&date_from=2014&date_to=2014&date_match=within"
        "&verification=corroborated&actor=tencent&tag=instant-messaging&type=account-removal",
        200,
    ),
    "empty": ("/?q=账号&date_from=1990&date_to=1991&country=global", 200),
    "bad filter": ("/?platform=微信平台&actor=没有这个名字", 400),
    "event": ("/events/{removed}/", 200),
    "retracted": ("/events/{retracted}/", 410),
    "actor": ("/actors/tencent/", 200),
    "platform": ("/platforms/wechat/", 200),
    "about": ("/about/", 200),
    "not found": ("/no-such-page/", 404),
    "no such event": ("/events/CN-2099-9999/", 404),
}
TYPED = ["微信平台", "没有这个名字", "账号"]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_is_in_chinese_but_its_data(client, timeline, name):
    path, status = PAGES[name]
    response = client.get("/zh-hans" + path.format(**timeline.ids))

    assert response.status_code == status
    assert "审查时间线" in readable(response)
    left = english_left(response, timeline.data + TYPED)
    assert not left, f"English on the Chinese page {name}: {', '.join(left)}"


@pytest.mark.parametrize("name", PAGES)
def test_every_english_page_shows_no_chinese_but_its_data(client, timeline, name):
    path, status = PAGES[name]
    response = client.get(path.format(**timeline.ids))

    assert response.status_code == status
    left = chinese_left(response, timeline.data + TYPED)
    assert not left, f"Chinese on the English page {name}: {', '.join(left)}"


def test_a_page_read_in_one_language_leaves_nothing_of_it_in_the_other(client, timeline):
    # Both languages share one cache: what a page keeps there (the filters' lists, say) is
    # kept per language.
    left = {}
    for name, (path, _status) in PAGES.items():
        path = path.format(**timeline.ids)
        chinese = english_left(client.get("/zh-hans" + path), timeline.data + TYPED)
        english = chinese_left(client.get(path), timeline.data + TYPED)
        if chinese or english:
            left[name] = chinese + english

    assert not left, f"Words of the other language, after a page in it: {left}"


def test_a_deep_page_is_in_chinese(client, timeline, monkeypatch):
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    first = client.get("/zh-hans/")
    later = re.search(r'<a rel="next" href="([^"]+)">([^<]+)</a>', first.content.decode())

    deep = client.get("/zh-hans/" + later[1].replace("&amp;", "&"))

    assert later[2] == "较早的事件"
    assert deep.status_code == 200 and 'rel="prev"' in deep.content.decode()
    left = english_left(deep, timeline.data)
    assert not left, f"English on a deep Chinese page: {', '.join(left)}"


def test_the_data_pages_are_in_chinese(client, timeline):
    release_make()

    for path in ("/zh-hans/data/", "/zh-hans/data/1/"):
        response = client.get(path)
        assert response.status_code == 200
        left = english_left(response, timeline.data)
        assert not left, f"English on the Chinese page {path}: {', '.join(left)}"
    for path in ("/data/", "/data/1/"):
        left = chinese_left(client.get(path), timeline.data)
        assert not left, f"Chinese on the English page {path}: {', '.join(left)}"


def test_dates_counts_and_headings_are_written_the_chinese_way(client, timeline):
    event = client.get(f"/zh-hans/events/{timeline.ids['removed']}/").content.decode()
    listing = client.get("/zh-hans/").content.decode()
    filtered = client.get(
        "/zh-hans/", {"platform": "wechat", "date_from": "2014", "date_to": "2014"}
    ).content.decode()

    assert "<h1>发生在微信上、发生于2014的事件</h1>" in filtered
    assert "<title>2014年3月：2 起</title>" in filtered  # c. April may be March
    assert "首次发布于 " in event and "2014年3月14日" in event  # the source's day
    assert '<h1 lang="zh-hans">微信公众号被删除</h1>' in event  # the original first
    assert '<p class="title-english" lang="en">Public accounts removed</p>' in event
    assert "5 起事件" in listing and "2 个来源" in listing
    assert "审查时间线。“Public accounts removed”。事件 " in event


def test_the_chinese_feed_is_in_chinese(client, timeline):
    feed = feedparser.parse(client.get("/zh-hans/feeds/events.atom").content)

    assert feed.feed.title == "审查时间线"
    assert feed.feed.subtitle == "新发布的审查事件（最新的在前），以及所有撤回。"
    retracted = next(entry for entry in feed.entries if timeline.ids["retracted"] in entry.title)
    assert retracted.title == f"已撤回：{timeline.ids['retracted']}"
    removed = next(entry for entry in feed.entries if entry.title == "Public accounts removed")
    assert "中国 北京" in removed.summary and "来源：" in removed.summary


def served(context, words, *, plural):
    """Return what Django says for a catalogue's entry, in the active language."""
    if plural:  # Chinese has one form, for one and for many
        if context:
            return translation.npgettext(context, words, words, 1)
        return translation.ngettext(words, words, 1)
    return translation.pgettext(context, words) if context else translation.gettext(words)


def test_no_other_catalogue_says_the_pages_words_differently():
    # Django reads the catalogues of the apps listed before timeline first: where one of them
    # translates the same words ("About" is 约, a count's qualifier, in events'), a page would
    # say theirs. Such words take a context of their own here.
    mo = Path(pages.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.mo"
    with mo.open("rb") as file:
        ours = gettext.GNUTranslations(file)._catalog
    differ = []
    with translation.override("zh-hans"):
        for key, text in ours.items():
            msgid, form = key if isinstance(key, tuple) else (key, None)
            if not msgid or form:
                continue
            context, _, words = msgid.rpartition("\x04")
            said = served(context, words, plural=form is not None)
            if said != text:
                differ.append(f"{words!r} ({context or 'no context'}): {said!r}, not {text!r}")

    assert not differ, "Another catalogue wins for these:\n" + "\n".join(differ)
