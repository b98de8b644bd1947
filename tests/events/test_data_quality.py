"""Data quality: duplicate warnings, merging actors and platforms, quote checks, source URLs."""

import datetime
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from events import choices, services
from events.links import normalise_url, validate_archive_url
from events.models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    Platform,
    PlatformAlias,
    Source,
)
from events.quotes import check_quote
from tests.admin_forms import add_inline_rows, form_data
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    member_of,
)

EVENT_ADD = reverse("admin:events_event_add")
SOURCE_ADD = reverse("admin:events_source_add")


# Users and admin forms (the approach of tests/events/test_admin.py) ------------------------


@pytest.fixture
def group_curator(db):
    return member_of(services.CURATOR_GROUP, "group-curator")


def add_form_data(client, url, **fields):
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response) | fields


def shown_messages(response, level=None):
    return [
        str(message)
        for message in response.context["messages"]
        if level is None or message.level == level
    ]


def inline_errors(response, model):
    (formset,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is model
    ]
    return formset.errors


def post_new_event(client, *, title, event_type, date_text, country="CN", source=None, quote=""):
    data = add_form_data(
        client,
        EVENT_ADD,
        title=title,
        summary="Something happened.",
        event_type=str(event_type.pk),
        date_text=date_text,
        country=country,
    )
    if source is not None:
        add_inline_rows(data, "citations", {"source": source.pk, "quote": quote})
    return client.post(EVENT_ADD, data, follow=True)


# Likely duplicates -----------------------------------------------------------------------


@pytest.fixture
def recorded(db):
    """An event already recorded, and a report another event cites."""
    removal = EventTypeFactory(name="Account removal", slug="account-removal")
    report = SourceFactory(url="https://www.chinatopix.com/articles/8413")
    purge = EventFactory(
        title="WeChat public accounts removed",
        event_type=removal,
        date_text="2014-03",
        country="CN",
    )
    closures = EventFactory(
        title="Group chats closed in Guangdong",
        event_type=removal,
        date_text="2014-03-20",
        country="CN",
    )
    CitationFactory(event=closures, source=report, quote="")
    return SimpleNamespace(removal=removal, report=report, purge=purge, closures=closures)


def change_link(event):
    return reverse("admin:events_event_change", args=[event.pk])


def test_saving_an_event_like_a_recorded_one_warns_with_a_link_to_it(editor_client, recorded):
    response = post_new_event(
        editor_client,
        title="WeChat public accounts deleted",
        event_type=recorded.removal,
        date_text="2014-03-15",
    )

    assert response.status_code == 200
    new = Event.objects.get(title="WeChat public accounts deleted")
    (warning,) = shown_messages(response, messages.WARNING)
    assert warning.startswith(f"{new.public_id} may record the same happening as: ")
    assert f'<a href="{change_link(recorded.purge)}">' in warning
    assert f"{recorded.purge.public_id}: WeChat public accounts removed</a>" in warning
    assert "(same type, country and dates, similar title (" in warning
    assert change_link(recorded.closures) not in warning
    assert warning in response.content.decode()


def test_saving_an_event_that_cites_the_same_url_warns_whatever_its_title(editor_client, recorded):
    response = post_new_event(
        editor_client,
        title="Lawyer questioned about messages",
        event_type=recorded.removal,
        date_text="2014",
        country="HK",
        source=recorded.report,
    )

    (warning,) = shown_messages(response, messages.WARNING)
    assert f'<a href="{change_link(recorded.closures)}">' in warning
    assert "(same type, overlapping dates, cites a source with the same URL)" in warning
    assert change_link(recorded.purge) not in warning


@pytest.mark.parametrize(
    "changes",
    [
        lambda world: {"event_type": EventTypeFactory()},
        lambda world: {"date_text": "2014-05"},
        lambda world: {"title": "Lawyer sentenced for posts"},
        lambda world: {"country": "HK"},
    ],
    ids=["another type", "dates that do not overlap", "a dissimilar title", "another country"],
)
def test_saving_an_event_unlike_the_recorded_ones_gives_no_warning(
    editor_client, recorded, changes
):
    fields = {
        "title": "WeChat public accounts deleted",
        "event_type": recorded.removal,
        "date_text": "2014-03-15",
        "country": "CN",
    }

    response = post_new_event(editor_client, **(fields | changes(recorded)))

    assert response.status_code == 200
    assert Event.objects.count() == 3
    assert shown_messages(response, messages.WARNING) == []


def test_likely_duplicates_by_similar_title_in_the_same_country(recorded):
    event = EventFactory(
        title="WeChat public account removed",
        event_type=recorded.removal,
        date_text="2014-03-01/2014-04-30",
        country="CN",
    )

    found = services.event_likely_duplicates(event=event)

    assert [other for other, _reason in found] == [recorded.purge]
    assert found[0][1].startswith("same type, country and dates, similar title (")


def test_likely_duplicates_by_a_shared_source_url(recorded):
    event = EventFactory(
        title="Something else entirely", event_type=recorded.removal, date_text="2014"
    )
    CitationFactory(event=event, source=recorded.report)

    found = services.event_likely_duplicates(event=event)

    assert found == [
        (recorded.closures, "same type, overlapping dates, cites a source with the same URL")
    ]


def test_an_ongoing_event_overlaps_what_came_after_its_start(recorded):
    event = EventFactory(
        title="WeChat public accounts removed, and more",
        event_type=recorded.removal,
        date_text="2013-06/..",
        country="CN",
    )

    assert [other for other, _ in services.event_likely_duplicates(event=event)] == [recorded.purge]


@pytest.mark.parametrize(
    "fields",
    [
        {"event_type": None},
        {"date_text": "2014-04-01/2014-04-30"},
        {"title": "Court rules on a lawyer's case"},
        {"country": "", "is_global": True},
    ],
    ids=["no type", "later dates", "dissimilar title", "global, not in the country"],
)
def test_likely_duplicates_leave_out_events_that_differ(recorded, fields):
    event_fields = {
        "title": "WeChat public accounts removed",
        "event_type": recorded.removal,
        "date_text": "2014-03",
        "country": "CN",
    }

    event = EventFactory(**(event_fields | fields))

    assert services.event_likely_duplicates(event=event) == []


def test_likely_duplicates_leave_out_retracted_events_and_the_event_itself(recorded):
    Event.objects.filter(pk=recorded.purge.pk).update(
        status=choices.EventStatus.RETRACTED,
        first_published_at=timezone.now(),
        retracted_at=timezone.now(),
        retraction_reason="Wrong.",
    )

    assert services.event_likely_duplicates(event=recorded.purge) == []
    twin = EventFactory(
        title=recorded.purge.title, event_type=recorded.removal, date_text="2014-03"
    )
    assert services.event_likely_duplicates(event=twin) == []


# Merging actors and platforms ------------------------------------------------------------


def merge_through_the_admin(client, model, keep, *rows):
    """Choose the action on the list, then pick the one to keep on the intermediate page."""
    changelist = reverse(f"admin:events_{model}_changelist")
    selected = [row.pk for row in (keep, *rows)]
    chosen = {"action": "merge_selected", "_selected_action": selected, "index": 0}
    intermediate = client.post(changelist, chosen)
    assert intermediate.status_code == 200
    assert intermediate.templates[0].name == "admin/events/merge.html"
    assert {row.pk for row in intermediate.context["rows"]} == set(selected)
    applied = chosen | {"apply": "Merge", "keep": keep.pk}
    return client.post(changelist, applied, follow=True)


def pin_updated_at(*events):
    moment = timezone.now() - datetime.timedelta(days=30)
    Event.objects.filter(pk__in=[event.pk for event in events]).update(updated_at=moment)
    return moment


@pytest.fixture
def two_names_of_one_office(db):
    keep = ActorFactory(name="Cyberspace Administration of China", slug="cac")
    ActorAlias.objects.create(actor=keep, name="CAC")
    old = ActorFactory(name="State Internet Information Office", slug="siio")
    ActorAlias.objects.create(actor=old, name="国家互联网信息办公室", language="zh-hans")
    ActorAlias.objects.create(actor=old, name="cac")  # already a name of the kept actor
    both = EventFactory(title="Rules for instant messaging")
    EventActorFactory(event=both, actor=keep, role=choices.Role.ORDERED)
    EventActorFactory(event=both, actor=old, role=choices.Role.ORDERED)
    EventActorFactory(event=both, actor=old, role=choices.Role.ANNOUNCED)
    only_old = EventFactory(title="Public accounts removed")
    EventActorFactory(event=only_old, actor=old, role=choices.Role.ENFORCED)
    unrelated = EventFactory(title="Lawyer sentenced")
    EventActorFactory(event=unrelated, actor=ActorFactory(), role=choices.Role.ORDERED)
    services.event_search_refresh(event_ids=[both.pk, only_old.pk, unrelated.pk])
    return SimpleNamespace(
        keep=keep,
        old=old,
        old_pk=old.pk,
        both=both,
        only_old=only_old,
        unrelated=unrelated,
        child=ActorFactory(name="Information office of Guangdong", parent=old),
        # Ids apart from the kept actor's: see test_a_platform_or_source_whose_id_...
        platform=PlatformFactory(id=keep.pk + 1000, name="Government app", operator=old),
        source=SourceFactory(id=keep.pk + 1000, publisher="SIIO", publisher_actor=old),
        since=pin_updated_at(both, only_old, unrelated),
    )


def test_an_editor_merges_two_actors_through_the_admin(editor_client, two_names_of_one_office):
    world = two_names_of_one_office

    response = merge_through_the_admin(editor_client, "actor", world.keep, world.old)

    assert shown_messages(response) == ["Merged into Cyberspace Administration of China."]
    assert set(world.both.actor_roles.values_list("actor", "role")) == {
        (world.keep.pk, choices.Role.ORDERED),
        (world.keep.pk, choices.Role.ANNOUNCED),
    }
    assert list(world.only_old.actor_roles.values_list("actor", "role")) == [
        (world.keep.pk, choices.Role.ENFORCED)
    ]
    assert not EventActor.objects.filter(actor_id=world.old_pk).exists()
    world.child.refresh_from_db()
    world.platform.refresh_from_db()
    world.source.refresh_from_db()
    assert (world.child.parent, world.platform.operator, world.source.publisher_actor) == (
        world.keep,
        world.keep,
        world.keep,
    )


def test_merging_actors_keeps_the_merged_names_as_aliases(editor_client, two_names_of_one_office):
    world = two_names_of_one_office

    merge_through_the_admin(editor_client, "actor", world.keep, world.old)

    aliases = world.keep.aliases.order_by("name")
    assert [(a.name, a.kind, a.language) for a in aliases] == [
        ("CAC", choices.AliasKind.NAME, ""),
        ("State Internet Information Office", choices.AliasKind.ALIAS, ""),
        ("国家互联网信息办公室", choices.AliasKind.NAME, "zh-hans"),
    ]


def test_a_merged_actor_is_gone_but_its_history_remains(editor_client, two_names_of_one_office):
    world = two_names_of_one_office

    merge_through_the_admin(editor_client, "actor", world.keep, world.old)

    assert not Actor.objects.filter(pk=world.old_pk).exists()
    history = Actor.history.filter(id=world.old_pk).order_by("history_date")
    assert [record.history_type for record in history] == ["+", "-"]
    assert history.last().name == "State Internet Information Office"


def test_events_of_a_merged_actor_change_and_are_found_by_the_old_name(
    editor_client, two_names_of_one_office
):
    world = two_names_of_one_office

    merge_through_the_admin(editor_client, "actor", world.keep, world.old)

    for event in (world.both, world.only_old, world.unrelated):
        event.refresh_from_db()
    assert world.both.updated_at > world.since
    assert world.only_old.updated_at > world.since
    assert world.unrelated.updated_at == world.since
    found = set(Event.objects.matching("State Internet Information Office"))
    assert found == {world.both, world.only_old}
    assert set(Event.objects.matching("国家互联网信息办公室")) == {world.both, world.only_old}
    assert set(Event.objects.matching("Cyberspace Administration")) == {
        world.both,
        world.only_old,
    }


@pytest.fixture
def two_names_of_one_app(db):
    keep = PlatformFactory(name="WeChat", slug="wechat")
    old = PlatformFactory(name="Weixin", slug="weixin")
    PlatformAlias.objects.create(platform=old, name="微信", language="zh-hans")
    both = EventFactory(title="Public accounts removed")
    both.platforms.add(keep, old)
    only_old = EventFactory(title="Group chats closed")
    only_old.platforms.add(old)
    unrelated = EventFactory(title="Posts deleted")
    unrelated.platforms.add(PlatformFactory())
    services.event_search_refresh(event_ids=[both.pk, only_old.pk, unrelated.pk])
    return SimpleNamespace(
        keep=keep,
        old=old,
        old_pk=old.pk,
        both=both,
        only_old=only_old,
        unrelated=unrelated,
        since=pin_updated_at(both, only_old, unrelated),
    )


def test_an_editor_merges_two_platforms_through_the_admin(editor_client, two_names_of_one_app):
    world = two_names_of_one_app

    response = merge_through_the_admin(editor_client, "platform", world.keep, world.old)

    assert shown_messages(response) == ["Merged into WeChat."]
    assert list(world.both.platforms.all()) == [world.keep]
    assert list(world.only_old.platforms.all()) == [world.keep]
    assert sorted(world.keep.aliases.values_list("name", flat=True)) == ["Weixin", "微信"]
    assert not Platform.objects.filter(pk=world.old_pk).exists()
    history = Platform.history.filter(id=world.old_pk).order_by("history_date")
    assert [record.history_type for record in history] == ["+", "-"]
    for event in (world.both, world.only_old, world.unrelated):
        event.refresh_from_db()
    assert world.both.updated_at > world.since
    assert world.only_old.updated_at > world.since
    assert world.unrelated.updated_at == world.since
    assert set(Event.objects.matching("Weixin")) == {world.both, world.only_old}
    assert set(Event.objects.matching("微信")) == {world.both, world.only_old}


def test_a_platform_whose_id_is_the_kept_actors_id_moves_to_the_kept_actor(db):
    keep, old = ActorFactory(), ActorFactory()
    platform = PlatformFactory(id=keep.pk, operator=old)

    try:
        services.actor_merge(keep=keep, merge=[old])
    except ProtectedError as error:  # the merged actor still operates the platform
        raise AssertionError(str(error)) from error

    platform.refresh_from_db()
    assert platform.operator == keep


def test_a_source_whose_id_is_the_kept_actors_id_moves_to_the_kept_actor(db):
    keep, old = ActorFactory(), ActorFactory()
    source = SourceFactory(id=keep.pk, publisher_actor=old)

    services.actor_merge(keep=keep, merge=[old])

    source.refresh_from_db()
    assert source.publisher_actor == keep


def test_a_curator_is_not_offered_the_merge_action(client, group_curator, two_names_of_one_office):
    world = two_names_of_one_office
    client.force_login(group_curator)
    changelist = reverse("admin:events_actor_changelist")

    listed = client.get(changelist)
    response = client.post(
        changelist,
        {
            "action": "merge_selected",
            "_selected_action": [world.keep.pk, world.old.pk],
            "index": 0,
            "apply": "Merge",
            "keep": world.keep.pk,
        },
        follow=True,
    )

    assert listed.status_code == 200
    assert "merge_selected" not in listed.content.decode()
    assert response.status_code == 200
    assert Actor.objects.filter(pk=world.old_pk).exists()
    assert EventActor.objects.filter(actor_id=world.old_pk).count() == 3
    assert not world.keep.aliases.filter(name="State Internet Information Office").exists()


def test_the_merge_services_refuse_a_curator(group_curator, two_names_of_one_office):
    world = two_names_of_one_office
    keep_platform, old_platform = PlatformFactory(), PlatformFactory()

    with pytest.raises(PermissionDenied):
        services.actor_merge(keep=world.keep, merge=[world.old], user=group_curator)
    with pytest.raises(PermissionDenied):
        services.platform_merge(keep=keep_platform, merge=[old_platform], user=group_curator)

    assert Actor.objects.filter(pk=world.old_pk).exists()
    assert Platform.objects.filter(pk=old_platform.pk).exists()


def test_merging_an_actor_into_itself_alone_is_refused(editor, two_names_of_one_office):
    world = two_names_of_one_office

    with pytest.raises(ValidationError):
        services.actor_merge(keep=world.keep, merge=[world.keep], user=editor)


# Quotes checked against the source's text ------------------------------------------------

FULL_TEXT = (
    "Tencent said on Wednesday that over 40 accounts \u2014 including \u201cXinhua Watch\u201d "
    "\u2014 had been removed for spreading rumours.\n\nThe company\u2019s   statement gave no "
    "further detail."
)


@pytest.mark.parametrize(
    "quote",
    [
        FULL_TEXT,
        "over 40 accounts \u2014 including \u201cXinhua Watch\u201d",
        'over 40 accounts - including "Xinhua Watch" - had been removed',
        "OVER 40 ACCOUNTS \u2013 INCLUDING \u201eXINHUA WATCH\u201d",
        "spreading rumours. The company's statement",
        "the   company's\nstatement\u00a0gave no further detail.",
    ],
    ids=["whole text", "verbatim", "straight quotes and hyphens", "case", "line breaks", "spaces"],
)
def test_check_quote_finds_a_quote_copied_with_the_usual_changes(quote):
    check = check_quote(quote, FULL_TEXT)

    assert (check.found, check.similarity) == (True, 1.0)


@pytest.mark.parametrize(
    ("quote", "closest"),
    [
        ("over 50 accounts", "over 40 accounts"),
        ("Tencent said on Thursday", "Tencent said on Wednesday"),
        ("removed for spreading lies", "removed for spreading rumours."),
        (
            "The company's statement gave further detail",
            "company's statement gave no further detail.",
        ),
        ("over 40 accounts including Xinhua Watch", '40 accounts - including "Xinhua Watch"'),
    ],
    ids=["a number", "a day", "a word", "a word left out", "dashes and quote marks left out"],
)
def test_check_quote_refuses_a_near_miss_and_offers_the_closest_passage(quote, closest):
    check = check_quote(quote, FULL_TEXT)

    assert not check.found
    assert check.closest == closest
    assert 0.6 < check.similarity < 1


def test_check_quote_refuses_a_quote_from_another_text():
    check = check_quote("The court sentenced him to three years.", FULL_TEXT)

    assert not check.found
    assert check.similarity < 0.6


@pytest.fixture
def full_text_source(db):
    return SourceFactory(title="Tencent statement", full_text=FULL_TEXT)


def test_a_citation_quoting_the_source_passes_full_clean(full_text_source):
    citation = Citation(
        event=EventFactory(),
        source=full_text_source,
        quote='OVER 40 accounts - including "Xinhua Watch" -   had been removed',
    )

    citation.full_clean()


def test_a_citation_with_a_near_miss_is_refused_with_the_closest_passage(full_text_source):
    citation = Citation(
        event=EventFactory(), source=full_text_source, quote="over 50 accounts had been"
    )

    with pytest.raises(ValidationError) as refused:
        citation.full_clean()

    (message,) = refused.value.message_dict["quote"]
    assert message.startswith("This passage is not in the source's text. The closest passage ")
    assert "\u201cover 40 accounts - including\u201d" in message
    assert message.endswith("% alike).")


def test_a_source_without_full_text_accepts_any_quote(db):
    source = SourceFactory(full_text="")

    Citation(event=EventFactory(), source=source, quote="over 50 accounts").full_clean()


def test_the_admin_accepts_a_citation_whose_quote_is_in_the_source(editor_client, full_text_source):
    response = post_new_event(
        editor_client,
        title="WeChat public accounts removed",
        event_type=EventTypeFactory(),
        date_text="2014-05-28",
        source=full_text_source,
        quote="Over 40 accounts \u2013 including \u201cXinhua Watch\u201d",
    )

    assert response.redirect_chain, inline_errors(response, Citation)
    citation = Citation.objects.get()
    assert citation.quote == "Over 40 accounts \u2013 including \u201cXinhua Watch\u201d"


def test_the_admin_refuses_a_near_miss_quote_and_shows_the_closest_passage(
    editor_client, full_text_source
):
    response = post_new_event(
        editor_client,
        title="WeChat public accounts removed",
        event_type=EventTypeFactory(),
        date_text="2014-05-28",
        source=full_text_source,
        quote="over 50 accounts",
    )

    assert response.redirect_chain == []
    (row_errors,) = inline_errors(response, Citation)
    (message,) = row_errors["quote"]
    assert "The closest passage is: \u201cover 40 accounts\u201d" in message
    assert escape(message) in response.content.decode()
    assert not Event.objects.exists()
    assert not Citation.objects.exists()


# Source URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("HTTPS://WWW.Example.ORG/News/A", "https://www.example.org/News/A"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("https://example.org/a/", "https://example.org/a"),
        ("https://example.org/", "https://example.org"),
        ("https://example.org/a#comments", "https://example.org/a"),
        (
            "https://example.org/a?utm_source=x&utm_medium=social&UTM_CAMPAIGN=y",
            "https://example.org/a",
        ),
        ("https://example.org/a?fbclid=IwAR0&gclid=Cj0", "https://example.org/a"),
        ("https://example.org/a?id=7&utm_source=x&page=2", "https://example.org/a?id=7&page=2"),
        ("  https://example.org/a  ", "https://example.org/a"),
        ("", ""),
    ],
    ids=[
        "scheme and host case",
        "https default port",
        "http default port",
        "other port kept",
        "trailing slash",
        "bare host",
        "fragment",
        "utm parameters",
        "fbclid and gclid",
        "other parameters kept in order",
        "surrounding spaces",
        "empty",
    ],
)
def test_normalise_url_gives_one_spelling_per_page(url, normalised):
    assert normalise_url(url) == normalised


def test_normalise_url_keeps_what_names_a_wechat_article_and_drops_how_it_was_shared():
    url = (
        "https://mp.weixin.qq.com/s?__biz=MzA3MDM3NjE5NQ==&mid=2650&idx=1&sn=5e0c4b"
        "&scene=21&srcid=0612Xy#wechat_redirect"
    )

    normalised = urlsplit(normalise_url(url))

    assert (normalised.scheme, normalised.netloc, normalised.path) == (
        "https",
        "mp.weixin.qq.com",
        "/s",
    )
    assert parse_qsl(normalised.query) == [
        ("__biz", "MzA3MDM3NjE5NQ=="),
        ("mid", "2650"),
        ("idx", "1"),
        ("sn", "5e0c4b"),
    ]
    assert normalised.fragment == ""
    assert normalise_url(url.replace("scene=21", "scene=126")) == normalise_url(url)


def test_normalise_url_keeps_an_ipv6_host_readable():
    assert normalise_url("https://[2001:DB8::1]:8443/a/") == "https://[2001:db8::1]:8443/a"


@pytest.fixture
def chinatopix(db):
    return SourceFactory(key="chinatopix", url="https://www.chinatopix.com/articles/8413")


def new_source(url, **fields):
    return Source(
        key=fields.pop("key", "another"),
        title="Tencent cracks down",
        kind=choices.SourceKind.NEWS,
        url=url,
        **fields,
    )


def test_full_clean_normalises_a_source_url(db):
    source = new_source("https://WWW.ChinaTopix.com/articles/8413/?utm_source=twitter#top")

    source.full_clean()

    assert source.url == "https://www.chinatopix.com/articles/8413"


@pytest.mark.parametrize(
    "spelling",
    [
        "https://www.chinatopix.com/articles/8413",
        "HTTPS://www.ChinaTopix.com/articles/8413/",
        "https://www.chinatopix.com:443/articles/8413?utm_source=weibo&fbclid=x",
        "https://www.chinatopix.com/articles/8413#comments",
    ],
)
def test_the_same_page_under_another_spelling_is_refused(chinatopix, spelling):
    with pytest.raises(ValidationError) as refused:
        new_source(spelling).full_clean()

    assert refused.value.messages == ["Another source already has this URL."]


def test_another_page_of_the_same_site_is_accepted(chinatopix):
    new_source("https://www.chinatopix.com/articles/8414").full_clean()
    new_source("https://www.chinatopix.com/articles/8413?page=2", key="third").full_clean()


def test_a_url_with_an_impossible_port_is_refused_with_a_message(db):
    with pytest.raises(ValidationError):
        new_source("https://www.chinatopix.com:99999/articles/8413").full_clean()


def source_form_data(client, **fields):
    defaults = {"title": "Tencent cracks down", "key": "copy", "kind": choices.SourceKind.NEWS}
    return add_form_data(client, SOURCE_ADD, **defaults) | fields


def test_the_admin_refuses_a_second_source_for_the_same_page(editor_client, chinatopix):
    data = source_form_data(
        editor_client, url="https://WWW.chinatopix.com/articles/8413/?utm_campaign=daily"
    )

    response = editor_client.post(SOURCE_ADD, data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == ["Another source already has this URL."]
    assert "Another source already has this URL." in response.content.decode()
    assert list(Source.objects.values_list("key", flat=True)) == ["chinatopix"]


def test_the_admin_saves_a_source_url_normalised(editor_client, db):
    xinhua = ActorFactory(name="Xinhua", kind=choices.ActorKind.MEDIA)
    data = source_form_data(
        editor_client,
        url="https://www.news.cn/politics/2014-08/07/c_1111.htm?utm_source=rss#p2",
        publisher="Xinhua",
        publisher_actor=str(xinhua.pk),
        archive_url="https://web.archive.org/web/20140807120000/http://www.news.cn/c_1111.htm",
    )

    response = editor_client.post(SOURCE_ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    source = Source.objects.get()
    assert source.url == "https://www.news.cn/politics/2014-08/07/c_1111.htm"
    assert source.publisher_actor == xinhua
    assert list(xinhua.published_sources.all()) == [source]


@pytest.mark.parametrize(
    "archive_url",
    [
        "https://web.archive.org/web/20140528093000/https://www.chinatopix.com/articles/8413",
        "http://web.archive.org/web/2014/https://www.chinatopix.com/articles/8413",
        "https://web.archive.org/web/20140528093000id_/https://www.chinatopix.com/a",
        "https://archive.ph/AbC12",
        "https://archive.today/2014.05.28-093000/https://www.chinatopix.com/a",
        "https://perma.cc/ABCD-1234",
        "https://perma.cc/abcd-1234",
    ],
)
def test_an_archive_url_into_a_web_archive_is_accepted(db, archive_url):
    validate_archive_url(archive_url)
    new_source("https://www.chinatopix.com/a", archive_url=archive_url).full_clean()


@pytest.mark.parametrize(
    "archive_url",
    [
        "https://www.chinatopix.com/articles/8413",
        "https://web.archive.org/https://www.chinatopix.com/articles/8413",
        "https://perma.cc/ABCD",
        "https://archive.org/details/something",
    ],
    ids=["a news page", "wayback without a timestamp", "short perma.cc", "archive.org item"],
)
def test_an_archive_url_outside_a_web_archive_is_refused_naming_the_archives(db, archive_url):
    with pytest.raises(ValidationError) as refused:
        new_source("https://www.chinatopix.com/a", archive_url=archive_url).full_clean()

    (message,) = refused.value.message_dict["archive_url"]
    assert message.startswith("An archive URL must point to a saved copy: ")
    for archive in ("web.archive.org/web/<time>/<url>", "archive.today", "archive.ph", "perma.cc"):
        assert archive in message


def test_a_source_publisher_can_be_an_actor(db):
    xinhua = ActorFactory(name="Xinhua", slug="xinhua", kind=choices.ActorKind.MEDIA)
    source = SourceFactory(publisher="Xinhua News Agency", publisher_actor=xinhua)

    assert list(xinhua.published_sources.all()) == [source]
    assert Source.objects.filter(publisher_actor__slug="xinhua").get() == source
