"""The curators' admin in Simplified Chinese: every screen an editor works in reads in Chinese.

Each page is fetched under /zh-hans/admin/ with data written in Chinese, its visible text is
read (text, button labels, titles and placeholders; never scripts, styles, textarea contents,
input values or text hidden from sight), and any English word left in it fails the test with
the page and the line.
"""

# ruff: noqa: RUF001, RUF003 (Chinese text is written with full-width punctuation)

import datetime
import gettext as gnu_gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.admin import site
from django.test import Client
from django.urls import reverse
from django.utils import translation

import events
from events.choices import (
    ActorKind,
    AliasKind,
    CountQualifier,
    CountUnit,
    EventStatus,
    RelationType,
    Reliability,
    Role,
    SourceKind,
    Verification,
)
from events.models import ActorAlias, Citation, EventActor, EventCount, EventRelation, PlatformAlias
from events.resources import EVENT_COLUMNS
from events.services import EDITOR_GROUP, event_submit
from tests.factories import (
    ActorFactory,
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
    member_of,
)

CATALOGUE = Path(events.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
# Proper names and codes that stay as they are in Chinese text. Sorani is in Django's own name
# of a language (中部库尔德语（Sorani）); csv and xlsx are the import's file formats.
ALLOWED_WORDS = {"WeChat", "Wikidata", "EDTF", "ISO", "URL", "API", "VPN", "Sorani", "csv", "xlsx"}
# The import page lists the columns a file has: names in the file, not words to translate.
COLUMN_LIST = ", ".join(EVENT_COLUMNS)
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# Addresses, domains (web.archive.org, perma.cc, events.search) and slugs (zh-hans,
# chinatopix-2014-05-28-instant-messaging) are codes, not words to translate.
CODES = re.compile(
    r"https?://\S+|[\w-]*[A-Za-z][\w-]*(?:\.[\w-]+)+(?:/\S*)?|\b[a-z0-9]+(?:-[a-z0-9]+)+\b"
)
HIDDEN_ELEMENTS = {"script", "style", "textarea", "template"}
# Text only screen readers get: Django 5.2's own table headings there (Model name, Add link)
# are not in its Chinese catalogue yet.
HIDDEN_CLASS = "visually-hidden"
# Not alt: Django's search icon is alt="Search" in every language.
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label")
BUTTON_TYPES = {"submit", "button", "reset"}
VOID_ELEMENTS = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class VisibleText(HTMLParser):
    """Collect what a person reads on a page: text, button labels, titles and placeholders."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines, self._hidden = [], []  # the open elements that hide what is inside them

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self._hidden:
            if tag == self._hidden[-1]:
                self._hidden.append(tag)
            return
        if tag in HIDDEN_ELEMENTS or HIDDEN_CLASS in (attributes.get("class") or "").split():
            if tag not in VOID_ELEMENTS:
                self._hidden.append(tag)
            return
        self.lines.extend(attributes[name] for name in SHOWN_ATTRIBUTES if attributes.get(name))
        if tag == "input" and attributes.get("type") in BUTTON_TYPES and attributes.get("value"):
            self.lines.append(attributes["value"])

    def handle_endtag(self, tag):
        if self._hidden and tag == self._hidden[-1]:
            self._hidden.pop()

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.lines.append(data.strip())


def visible_lines(html):
    parser = VisibleText()
    parser.feed(html)
    return parser.lines


def site_names():
    """The admin's header and titles: config's, translated in the project's own catalogue."""
    with translation.override("zh-hans"):
        return [str(name) for name in (site.site_header, site.site_title, site.index_title)]


def english_words(html):
    """Return {word: first line it is in} for each untranslated English word on a page."""
    found = {}
    for line in visible_lines(html):
        text = line.replace(COLUMN_LIST, " ")
        for name in site_names():
            text = text.replace(name, " ")
        for word in ENGLISH_WORD.findall(CODES.sub(" ", text)):
            if word not in ALLOWED_WORDS:
                found.setdefault(word, line)
    return found


def zh(name, *args):
    with translation.override("zh-hans"):
        return reverse(f"admin:{name}", args=args)


def en(name, *args):
    with translation.override("en-gb"):
        return reverse(f"admin:{name}", args=args)


@pytest.fixture(autouse=True)
def language_of_the_thread_restored():
    """Leave no Chinese behind: a response leaves its language active in the thread."""
    yield
    translation.deactivate()


@pytest.fixture
def world(db):
    """A small timeline recorded in Chinese: names, titles and notes are data, not labels."""
    category = EventCategoryFactory(name="内容管控", slug="content-control")
    event_type = EventTypeFactory(category=category, name="账号删除或封禁", slug="account-removal")
    tencent = ActorFactory(
        name="腾讯", slug="tencent", kind=ActorKind.COMPANY, description="中国互联网公司。"
    )
    cac = ActorFactory(
        name="国家互联网信息办公室",
        slug="cac",
        kind=ActorKind.AGENCY,
        description="中国的互联网监管机构。",
        wikidata_id="Q5166593",
    )
    ActorAlias.objects.create(
        actor=cac, name="网信办", kind=AliasKind.ABBREVIATION, language="zh-hans"
    )
    wechat = PlatformFactory(
        name="微信", slug="wechat", operator=tencent, description="即时通讯应用。"
    )
    PlatformAlias.objects.create(platform=wechat, name="WeChat", language="en")
    source = SourceFactory(
        title="整治即时通信工具公众信息服务",
        key="xinhua-2014-05-27",
        publisher="新华社",
        summary="网信办宣布为期一个月的专项行动。",
        kind=SourceKind.OFFICIAL,
        language="zh-hans",
        published_on=datetime.date(2014, 5, 27),
        reliability=Reliability.RELIABLE,
        full_text="据报道，四十余个公众账号被关闭。",
    )
    tag = TagFactory(name="即时通讯", slug="instant-messaging")
    campaign = EventFactory(
        title="网信办宣布专项行动",
        summary="为期一个月的专项行动。",
        event_type=event_type,
        date_text="2014-05-27",
        status=EventStatus.PUBLISHED,
    )
    event = EventFactory(
        title="微信公众号被关闭",
        summary="据报道，四十余个公众号被关闭。",
        title_original="微信公众号被关闭",
        summary_original="据报道，四十余个公众号被关闭。",
        original_language="zh-hans",
        event_type=event_type,
        date_text="2014-05~",
        locality="北京",
        internal_notes="数字待核实。",
        verification=Verification.CORROBORATED,
    )
    event.platforms.add(wechat)
    event.tags.add(tag)
    EventActor.objects.create(event=event, actor=cac, role=Role.ORDERED, note="发布通知")
    EventActor.objects.create(event=event, actor=tencent, role=Role.ENFORCED)
    Citation.objects.create(
        event=event, source=source, quote="四十余个公众账号被关闭", locator="第2段", note="数字"
    )
    EventCount.objects.create(
        event=event,
        qualifier=CountQualifier.MORE_THAN,
        quantity=40,
        unit=CountUnit.ACCOUNTS,
        note="公众号",
    )
    EventRelation.objects.create(
        from_event=event, to_event=campaign, relation_type=RelationType.PART_OF, note="同一行动"
    )
    event_submit(event=event)
    draft = EventFactory(title="尚未完成的草稿", summary="待补充。", event_type=None, country="")
    return {
        "event": event,
        "published": campaign,
        "draft": draft,
        "actors": (cac, tencent),
        "platform": wechat,
        "source": source,
        "eventtype": event_type,
        "eventcategory": category,
        "tag": tag,
    }


@pytest.fixture
def editor_in_chinese(db):
    client = Client()
    client.force_login(member_of(EDITOR_GROUP, "编辑甲"))
    return client


def pages(world):
    """Return (name, url) for each screen a curator or editor works in."""
    event, published, draft = world["event"], world["published"], world["draft"]
    actor = world["actors"][0]
    listed = [
        ("index", zh("index")),
        ("app index", zh("app_list", "events")),
        ("events", zh("events_event_changelist")),
        ("new event", zh("events_event_add")),
        ("event in review", zh("events_event_change", event.pk)),
        ("published event", zh("events_event_change", published.pk)),
        ("draft event", zh("events_event_change", draft.pk)),
        ("event import", zh("events_event_import")),
        ("review queue", zh("events_eventinreview_changelist")),
        ("submit", zh("events_event_move", draft.pk, "submit")),
        ("publish", zh("events_event_move", event.pk, "publish")),
        ("return to draft", zh("events_event_move", event.pk, "return")),
        ("retract", zh("events_event_move", published.pk, "retract")),
    ]
    for model, row in (
        ("actor", actor),
        ("platform", world["platform"]),
        ("source", world["source"]),
        ("eventtype", world["eventtype"]),
        ("eventcategory", world["eventcategory"]),
        ("tag", world["tag"]),
    ):
        listed += [
            (f"{model} list", zh(f"events_{model}_changelist")),
            (f"new {model}", zh(f"events_{model}_add")),
            (f"{model}", zh(f"events_{model}_change", row.pk)),
        ]
    return listed


def action_pages(world):
    """Return (name, url, POST data) for the admin actions that ask before they act."""
    cac, tencent = world["actors"]
    return [
        (
            "retract selected",
            zh("events_event_changelist"),
            {"action": "retract_selected", "_selected_action": [world["published"].pk]},
        ),
        (
            "merge actors",
            zh("events_actor_changelist"),
            {"action": "merge_selected", "_selected_action": [cac.pk, tencent.pk]},
        ),
    ]


def untranslated(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Language"] == "zh-hans"
    return english_words(response.content.decode())


def test_every_screen_of_the_admin_reads_in_chinese(editor_in_chinese, world):
    left = {name: untranslated(editor_in_chinese.get(url)) for name, url in pages(world)}
    for name, url, data in action_pages(world):
        left[name] = untranslated(editor_in_chinese.post(url, data))

    left = {name: words for name, words in left.items() if words}
    assert not left, "English left in the Chinese admin:\n" + "\n".join(
        f"{name}: {word!r} in {line!r}"
        for name, words in left.items()
        for word, line in words.items()
    )


def test_the_change_form_shows_the_date_in_chinese_as_well_as_its_bounds(editor_in_chinese, world):
    response = editor_in_chinese.get(zh("events_event_change", world["event"].pk))

    assert "约2014年5月：2014-04-01 至 2014-06-30（精确到月，约略）" in response.content.decode()


def test_a_help_text_left_in_english_is_found():
    html = '<div class="help">What happened, in one line.</div><input value="Paris" type="text">'

    assert set(english_words(html)) == {"What", "happened", "one", "line"}


def test_data_codes_and_hidden_text_are_not_taken_for_english():
    html = (
        "<p>微信 (WeChat)，zh-hans，web.archive.org/web/&lt;时间&gt;/&lt;网址&gt;</p>"
        "<script>var label = 'Publish';</script><textarea>Tencent closed them.</textarea>"
        '<input type="hidden" name="action" value="retract_selected">'
        '<table><th class="visually-hidden"><span>Model</span> name</th><th>事件</th></table>'
    )

    assert english_words(html) == {}


def test_the_english_admin_stays_in_english(editor_in_chinese, world):
    event_page = editor_in_chinese.get(en("events_event_change", world["event"].pk))
    index = editor_in_chinese.get(en("index"))

    page = event_page.content.decode()
    assert event_page["Content-Language"] == "en-gb"
    assert "What happened, in one line." in page
    assert "Return to draft" in page
    assert "c. May 2014: 2014-04-01 to 2014-06-30 (month precision, approximate)" in page
    assert "用一句话说明发生了什么" not in page
    assert "Review queue" in index.content.decode()


def test_every_translation_in_the_catalogue_is_the_one_the_admin_gets():
    """No other app's catalogue shadows ours: Django reads each of our messages as we wrote it."""
    with CATALOGUE.open("rb") as catalogue:
        messages = gnu_gettext.GNUTranslations(catalogue)._catalog
    with translation.override("zh-hans"):
        served = {key: _served(key) for key in messages if key}

    assert {key: text for key, text in messages.items() if key} == served


def _served(key):
    if isinstance(key, tuple):  # a plural: (msgid, form)
        return translation.ngettext(key[0], key[0], 1)
    if "\x04" in key:
        context, message = key.split("\x04")
        return translation.pgettext(context, message)
    return translation.gettext(key)
