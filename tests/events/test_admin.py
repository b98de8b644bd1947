"""The curators' admin, driven through the test client against a real database."""

import io
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from events import choices
from events.models import (
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCount,
    PlatformAlias,
    PublicIdSequence,
)
from tests.admin_forms import add_inline_rows, form_data
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)

MODELS = ("event", "actor", "platform", "source", "eventtype", "eventcategory", "tag")
PAGES = [(model, page) for model in MODELS for page in ("changelist", "add", "change")]
PAGES.append(("event", "history"))
# Editors keep the taxonomy: a curator reads event types and categories but adds none.
TAXONOMY_ADD = [("eventtype", "add"), ("eventcategory", "add")]
CURATOR_PAGES = [page for page in PAGES if page not in TAXONOMY_ADD]
EVENT_CHANGELIST = reverse("admin:events_event_changelist")
EVENT_ADD = reverse("admin:events_event_add")
PUBLIC_ID_CELL = re.compile(r'<th class="field-public_id"><a href="[^"]*">([^<]+)</a></th>')


def event_change_url(event):
    return reverse("admin:events_event_change", args=[event.pk])


def listed_public_ids(response):
    """Return the public ids in the changelist's result rows, read from the HTML."""
    return set(PUBLIC_ID_CELL.findall(response.content.decode()))


def add_form_data(client, **fields):
    response = client.get(EVENT_ADD)
    assert response.status_code == 200
    return form_data(response) | fields


def change_form_data(client, event, **fields):
    response = client.get(event_change_url(event))
    assert response.status_code == 200
    return form_data(response) | fields


def form_errors(response):
    return response.context["adminform"].form.errors


def citation_errors(response):
    (citations,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is Citation
    ]
    return citations.non_form_errors()


def shown_messages(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def one_of_each(db):
    event = EventFactory()
    return {
        "event": event,
        "actor": ActorFactory(),
        "platform": PlatformFactory(),
        "source": SourceFactory(),
        "eventtype": event.event_type,
        "eventcategory": event.event_type.category,
        "tag": TagFactory(),
    }


def admin_page_url(model, page, objects):
    name = f"admin:events_{model}_{page}"
    if page in ("change", "history"):
        return reverse(name, args=[objects[model].pk])
    return reverse(name)


@pytest.mark.parametrize(
    ("model", "page"), CURATOR_PAGES, ids=[f"{m}-{p}" for m, p in CURATOR_PAGES]
)
def test_every_events_admin_page_opens_for_a_curator(curator_client, one_of_each, model, page):
    response = curator_client.get(admin_page_url(model, page, one_of_each))

    assert response.status_code == 200


@pytest.mark.parametrize(("model", "page"), TAXONOMY_ADD, ids=[f"{m}-{p}" for m, p in TAXONOMY_ADD])
def test_the_taxonomy_add_pages_open_for_an_editor(editor_client, one_of_each, model, page):
    response = editor_client.get(admin_page_url(model, page, one_of_each))

    assert response.status_code == 200


@pytest.mark.parametrize(("model", "page"), PAGES, ids=[f"{m}-{p}" for m, p in PAGES])
def test_every_events_admin_page_sends_an_anonymous_visitor_to_log_in(
    client, one_of_each, model, page
):
    url = admin_page_url(model, page, one_of_each)

    response = client.get(url)

    assert response.status_code == 302
    redirect = urlsplit(response.url)
    assert redirect.path == reverse("admin:login")
    assert parse_qs(redirect.query)["next"] == [url]


@pytest.fixture
def searchable(db):
    xi = ActorFactory(name="Xi Jinping")
    ActorAlias.objects.create(actor=xi, name="习近平")
    wechat = PlatformFactory(name="WeChat")
    PlatformAlias.objects.create(platform=wechat, name="微信", language="zh-hans")
    group = EventFactory(title="Leading group on cyberspace formed", summary="A new body.")
    EventActorFactory(event=group, actor=xi, role=choices.Role.ORDERED)
    purge = EventFactory(title="Public accounts removed", summary="Tencent closed them.")
    purge.platforms.add(wechat)
    ruling = EventFactory(title="Lawyer sentenced", summary="A court ruled.")
    return SimpleNamespace(group=group, purge=purge, ruling=ruling)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cyberspace", "group"),
        ("Tencent", "purge"),
        ("Jinping", "group"),
        ("习近平", "group"),
        ("WeChat", "purge"),
        ("微信", "purge"),
    ],
    ids=["title", "summary", "actor name", "actor alias", "platform name", "platform alias"],
)
def test_event_changelist_search_finds_events(curator_client, searchable, query, expected):
    response = curator_client.get(EVENT_CHANGELIST, {"q": query})

    assert response.status_code == 200
    assert listed_public_ids(response) == {getattr(searchable, expected).public_id}


def test_event_changelist_search_for_an_unknown_word_lists_nothing(curator_client, searchable):
    response = curator_client.get(EVENT_CHANGELIST, {"q": "Telegram"})

    assert response.status_code == 200
    assert listed_public_ids(response) == set()


def test_event_changelist_search_lists_an_event_once_when_several_actors_match(curator_client, db):
    event = EventFactory()
    EventActorFactory(event=event, actor=ActorFactory(name="Cyberspace Administration"))
    EventActorFactory(event=event, actor=ActorFactory(name="Cyberspace Affairs Commission"))

    response = curator_client.get(EVENT_CHANGELIST, {"q": "Cyberspace"})

    assert response.status_code == 200
    assert PUBLIC_ID_CELL.findall(response.content.decode()) == [event.public_id]


@pytest.fixture
def filterable(db):
    removal, blocking = EventTypeFactory(), EventTypeFactory()
    wechat, weibo = PlatformFactory(), PlatformFactory()
    wechat_purge = EventFactory(
        event_type=removal,
        country="CN",
        date_text="2014-05-27",
        verification=choices.Verification.SINGLE_SOURCE,
    )
    wechat_purge.platforms.add(wechat)
    hong_kong = EventFactory(
        event_type=blocking,
        country="HK",
        date_text="2015-01",
        status=choices.EventStatus.IN_REVIEW,
        verification=choices.Verification.CORROBORATED,
    )
    hong_kong.platforms.add(weibo)
    winter_span = EventFactory(
        event_type=removal,
        country="CN",
        date_text="2013-12/2014-02",
        status=choices.EventStatus.PUBLISHED,
        verification=choices.Verification.CONFIRMED,
    )
    global_rules = EventFactory(event_type=blocking, country="", is_global=True, date_text="2012")
    return SimpleNamespace(
        removal=removal,
        wechat=wechat,
        wechat_purge=wechat_purge,
        hong_kong=hong_kong,
        winter_span=winter_span,
        global_rules=global_rules,
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda world: {"status": "draft"}, {"wechat_purge", "global_rules"}),
        (lambda world: {"status": "published"}, {"winter_span"}),
        (
            lambda world: {"event_type__id__exact": world.removal.pk},
            {"wechat_purge", "winter_span"},
        ),
        (lambda world: {"country": "HK"}, {"hong_kong"}),
        (lambda world: {"platforms__id__exact": world.wechat.pk}, {"wechat_purge"}),
        (lambda world: {"verification": "corroborated"}, {"hong_kong"}),
        (lambda world: {"year": "2014"}, {"wechat_purge", "winter_span"}),
        (lambda world: {"year": "2013"}, {"winter_span"}),
        (lambda world: {"year": "2012"}, {"global_rules"}),
        (lambda world: {"year": "2016"}, set()),
    ],
    ids=[
        "status draft",
        "status published",
        "event type",
        "country",
        "platform",
        "verification",
        "year 2014",
        "year 2013 overlapped by a span",
        "year 2012",
        "year with no events",
    ],
)
def test_event_changelist_filter_shows_exactly_the_matching_events(
    curator_client, filterable, params, expected
):
    response = curator_client.get(EVENT_CHANGELIST, params(filterable))

    assert response.status_code == 200
    assert listed_public_ids(response) == {getattr(filterable, name).public_id for name in expected}


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (lambda world: "?status__exact=published", {"winter_span"}),
        (
            lambda world: f"?event_type__category__id__exact={world.removal.category.pk}",
            {"wechat_purge", "winter_span"},
        ),
        (
            lambda world: f"?event_type__id__exact={world.removal.pk}",
            {"wechat_purge", "winter_span"},
        ),
        (lambda world: "?country=HK", {"hong_kong"}),
        (lambda world: f"?platforms__id__exact={world.wechat.pk}", {"wechat_purge"}),
        (lambda world: "?verification__exact=corroborated", {"hong_kong"}),
        (lambda world: "?year=2013", {"winter_span"}),
    ],
    ids=["status", "category", "event type", "country", "platform", "verification", "year"],
)
def test_event_changelist_sidebar_offers_each_filter_as_a_link_that_works(
    curator_client, filterable, link, expected
):
    query = link(filterable)

    sidebar = curator_client.get(EVENT_CHANGELIST).content.decode()
    response = curator_client.get(EVENT_CHANGELIST + query)

    assert f'href="{query}"' in sidebar
    assert response.status_code == 200
    assert listed_public_ids(response) == {getattr(filterable, name).public_id for name in expected}


def test_year_filter_shows_an_ongoing_event_in_every_year_since_it_began(curator_client, db):
    ongoing = EventFactory(date_text="2009-07-07/..")
    EventFactory(date_text="2008")

    response = curator_client.get(EVENT_CHANGELIST, {"year": "2014"})

    assert response.status_code == 200
    assert listed_public_ids(response) == {ongoing.public_id}


def create_cited_events(count):
    for _ in range(count):
        event = EventFactory()
        EventActorFactory(event=event, role=choices.Role.ORDERED)
        EventActorFactory(event=event, role=choices.Role.ENFORCED)
        event.platforms.add(PlatformFactory(), PlatformFactory())
        CitationFactory(event=event)


def count_changelist_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(EVENT_CHANGELIST)
    assert response.status_code == 200
    return len(queries), listed_public_ids(response)


def test_event_changelist_query_count_does_not_grow_with_the_number_of_events(curator_client):
    create_cited_events(3)
    curator_client.get(EVENT_CHANGELIST)  # warm per-process caches (content types, sessions)
    queries_for_three, listed_three = count_changelist_queries(curator_client)

    create_cited_events(27)
    queries_for_thirty, listed_thirty = count_changelist_queries(curator_client)

    assert (len(listed_three), len(listed_thirty)) == (3, 30)
    assert queries_for_thirty == queries_for_three


@pytest.fixture
def journey(db):
    return SimpleNamespace(
        event_type=EventTypeFactory(),
        decider=ActorFactory(name="Cyberspace Administration of China"),
        enforcer=ActorFactory(name="Tencent", kind=choices.ActorKind.COMPANY),
        platform=PlatformFactory(name="WeChat"),
        source=SourceFactory(),
    )


def post_new_wechat_event(client, journey, **fields):
    event_fields = {
        "title": "WeChat public accounts removed",
        "summary": "Tencent removed over 40 public accounts that spread political news.",
        "event_type": str(journey.event_type.pk),
        "date_text": "2014-03",
        "country": "CN",
        "platforms": [str(journey.platform.pk)],
        "status": choices.EventStatus.DRAFT,
    }
    data = add_form_data(client, **(event_fields | fields))
    add_inline_rows(
        data,
        "actor_roles",
        {"actor": journey.decider.pk, "role": choices.Role.ORDERED},
        {"actor": journey.enforcer.pk, "role": choices.Role.ENFORCED, "note": "ran WeChat"},
    )
    add_inline_rows(
        data,
        "citations",
        {
            "source": journey.source.pk,
            "quote": "over 40 accounts being removed",
            "locator": "para. 6",
        },
    )
    add_inline_rows(
        data,
        "counts",
        {
            "qualifier": choices.CountQualifier.MORE_THAN,
            "quantity": "40",
            "unit": choices.CountUnit.ACCOUNTS,
        },
    )
    return client.post(EVENT_ADD, data)


def test_curator_records_a_whole_event_through_the_add_form(curator_client, curator, journey):
    response = post_new_wechat_event(curator_client, journey)

    assert response.status_code == 302, response.context and form_errors(response)
    event = Event.objects.get()
    assert event.public_id == "CN-2014-0001"
    assert (event.date_text, event.date_precision) == ("2014-03", "month")
    assert (event.date_earliest.isoformat(), event.date_latest.isoformat()) == (
        "2014-03-01",
        "2014-03-31",
    )
    assert (event.status, event.first_published_at) == (choices.EventStatus.DRAFT, None)
    assert set(event.actor_roles.values_list("actor", "role")) == {
        (journey.decider.pk, choices.Role.ORDERED),
        (journey.enforcer.pk, choices.Role.ENFORCED),
    }
    assert list(event.platforms.all()) == [journey.platform]
    assert list(event.citations.values_list("source", "quote", "locator")) == [
        (journey.source.pk, "over 40 accounts being removed", "para. 6"),
    ]
    assert list(event.counts.values_list("qualifier", "quantity", "unit")) == [
        (choices.CountQualifier.MORE_THAN, 40, choices.CountUnit.ACCOUNTS),
    ]
    assert (event.created_by, event.updated_by) == (curator, curator)
    assert event.history.count() >= 1
    assert event.history.earliest().history_user == curator
    assert event.history.latest().history_user == curator


@pytest.mark.parametrize(
    ("date_text", "problem"),
    [
        ("2014-13", ("'2014-13'", "month 13", "01 to 12")),
        ("2014-05-32", ("'2014-05-32'", "day 32", "31 days")),
        ("abc", ("'abc'", "not a date we can read")),
        ("2014-06/2014-05", ("'2014-06/2014-05'", "ends (2014-05) before it starts (2014-06)")),
    ],
    ids=["month 13", "day 32", "not a date", "span ending before it starts"],
)
def test_add_form_rejects_a_bad_date_with_what_is_wrong_and_a_valid_example(
    curator_client, journey, date_text, problem
):
    response = post_new_wechat_event(curator_client, journey, date_text=date_text)

    assert response.status_code == 200
    (message,) = form_errors(response)["date_text"]
    assert all(fragment in message for fragment in problem), message
    assert "2014-05-27" in message
    assert escape(message) in response.content.decode()
    assert not Event.objects.exists()
    assert not EventActor.objects.exists()
    assert not EventCount.objects.exists()
    assert not PublicIdSequence.objects.exists()


def test_a_status_posted_in_the_add_form_is_ignored_new_events_are_drafts(curator_client, journey):
    response = post_new_wechat_event(curator_client, journey, status="published")

    assert response.status_code == 302
    event = Event.objects.get()
    assert (event.status, event.first_published_at) == (choices.EventStatus.DRAFT, None)


def test_a_status_posted_in_the_change_form_is_ignored(curator_client, db):
    event = CitationFactory().event
    data = change_form_data(curator_client, event, status="published", title="Renamed")

    response = curator_client.post(event_change_url(event), data)

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.status) == ("Renamed", choices.EventStatus.DRAFT)


def test_removing_the_last_citation_of_a_published_event_is_refused(curator_client, db):
    citation = CitationFactory(event=EventFactory(status="published"))
    event = citation.event
    data = change_form_data(curator_client, event, **{"citations-0-DELETE": "on"})

    response = curator_client.post(event_change_url(event), data)

    assert response.status_code == 200
    assert citation_errors(response) == [
        "A published event needs at least one citation. Return it to draft first."
    ]
    assert event.citations.get() == citation


def test_clearing_the_type_of_a_published_event_is_refused(curator_client, db):
    event = CitationFactory(event=EventFactory(status="published")).event
    data = change_form_data(curator_client, event, event_type="")

    response = curator_client.post(event_change_url(event), data)

    assert response.status_code == 200
    assert citation_errors(response) == [
        "A published event needs an event type. Return it to draft first."
    ]
    event.refresh_from_db()
    assert event.event_type is not None


def publish_action(client, *events):
    return client.post(
        EVENT_CHANGELIST,
        {
            "action": "publish_selected",
            "_selected_action": [event.pk for event in events],
            "index": 0,
        },
        follow=True,
    )


def test_publish_action_publishes_an_event_with_citation_type_and_country(
    editor_client, editor, db
):
    event = CitationFactory(event=EventFactory(country="CN")).event

    response = publish_action(editor_client, event)

    assert response.status_code == 200
    assert shown_messages(response) == [f"{event.public_id} is now published."]
    event.refresh_from_db()
    assert event.status == choices.EventStatus.PUBLISHED
    assert event.first_published_at is not None
    assert event.updated_by == editor
    transition = event.transitions.get()
    assert (transition.from_status, transition.to_status, transition.user) == (
        "draft",
        "published",
        editor,
    )


def test_publish_action_refuses_an_event_without_a_citation(editor_client, db):
    event = EventFactory(country="CN")

    response = publish_action(editor_client, event)

    assert response.status_code == 200
    assert shown_messages(response) == [
        f"{event.public_id} cannot be published yet: it needs at least one citation."
    ]
    event.refresh_from_db()
    assert (event.status, event.first_published_at) == (choices.EventStatus.DRAFT, None)


def test_publish_action_names_everything_an_event_lacks(editor_client, db):
    event = EventFactory(event_type=None, country="")

    response = publish_action(editor_client, event)

    assert shown_messages(response) == [
        f"{event.public_id} cannot be published yet: it needs at least one citation, "
        "an event type, a country, or 'global'."
    ]
    event.refresh_from_db()
    assert event.status == choices.EventStatus.DRAFT


def test_publish_action_publishes_the_ready_events_and_refuses_the_others(editor_client, db):
    ready = CitationFactory(event=EventFactory(country="CN")).event
    uncited = EventFactory(country="CN")

    response = publish_action(editor_client, ready, uncited)

    assert set(shown_messages(response)) == {
        f"{ready.public_id} is now published.",
        f"{uncited.public_id} cannot be published yet: it needs at least one citation.",
    }
    assert set(Event.objects.published()) == {ready}


def test_editing_an_event_keeps_its_public_id_and_records_history(curator_client, curator, db):
    event = EventFactory(country="CN", date_text="2014-05-27")
    public_id = event.public_id
    data = change_form_data(
        curator_client, event, title="Renamed", date_text="2015-01", country="HK"
    )

    response = curator_client.post(event_change_url(event), data)

    assert response.status_code == 302, response.context and form_errors(response)
    event.refresh_from_db()
    assert event.public_id == public_id == "CN-2014-0001"
    assert (event.title, event.date_earliest.isoformat(), event.country.code) == (
        "Renamed",
        "2015-01-01",
        "HK",
    )
    assert event.updated_by == curator
    assert event.history.count() == 2
    assert event.history.latest().history_user == curator
    assert event.history.latest().title == "Renamed"


def test_editing_an_event_keeps_its_actors_citations_and_counts(curator_client, db):
    citation = CitationFactory()
    event = citation.event
    role = EventActorFactory(event=event)
    count = EventCount.objects.create(
        event=event,
        qualifier=choices.CountQualifier.ABOUT,
        quantity=40,
        unit=choices.CountUnit.POSTS,
    )
    data = change_form_data(curator_client, event, title="Renamed")

    response = curator_client.post(event_change_url(event), data)

    assert response.status_code == 302, response.context and form_errors(response)
    assert list(event.actor_roles.all()) == [role]
    assert list(event.citations.all()) == [citation]
    assert list(event.counts.all()) == [count]


def test_event_history_page_lists_each_change_with_the_curator_who_made_it(
    curator_client, curator, db
):
    event = EventFactory(title="Accounts removed")
    data = change_form_data(curator_client, event, title="Renamed")
    curator_client.post(event_change_url(event), data)

    response = curator_client.get(reverse("admin:events_event_history", args=[event.pk]))

    assert response.status_code == 200
    records = list(response.context["page_obj"])
    assert [record.history_type for record in records] == ["~", "+"]
    assert [record.history_user for record in records] == [curator, None]
    user_link = reverse("admin:auth_user_change", args=[curator.pk])
    assert f'<a href="{user_link}">curator</a>' in response.content.decode()


def test_event_change_page_reads_the_date_back_to_the_curator(curator_client, db):
    event = EventFactory(date_text="2014-04~")

    response = curator_client.get(event_change_url(event))

    assert response.status_code == 200
    assert "2014-03-01 to 2014-05-31 (month precision, approximate)" in response.content.decode()


def test_the_demo_curator_records_a_whole_event_and_its_autocompletes_answer(client, journey):
    """The account `make run` creates has the permissions the curator journey needs."""
    call_command("create_demo_users", stdout=io.StringIO())
    curator = get_user_model().objects.get(username="demo-curator")
    client.force_login(curator)
    for model_name, field_name, found in [
        ("eventactor", "actor", journey.decider.name),
        ("event", "platforms", "WeChat"),
        ("citation", "source", journey.source.title),
        ("event", "event_type", journey.event_type.name),
    ]:
        autocomplete = client.get(
            "/admin/autocomplete/",
            {"app_label": "events", "model_name": model_name, "field_name": field_name},
        )
        assert autocomplete.status_code == 200, field_name
        assert any(found in row["text"] for row in autocomplete.json()["results"]), field_name

    response = post_new_wechat_event(client, journey)

    assert response.status_code == 302, response.context and form_errors(response)
    event = Event.objects.get()
    assert event.created_by == curator
    assert event.actor_roles.count() == 2
    assert event.citations.count() == 1


def test_an_event_saved_in_the_admin_is_found_by_its_actors_names_and_quotes(
    curator_client, journey
):
    post_new_wechat_event(curator_client, journey)

    event = Event.objects.get()
    assert list(Event.objects.matching("cyberspace administration")) == [event]
    assert list(Event.objects.matching("wechat 40 accounts removed")) == [event]


def test_renaming_an_actor_in_the_admin_reaches_its_events(curator_client, journey):
    post_new_wechat_event(curator_client, journey)
    event = Event.objects.get()
    updated_before = event.updated_at
    actor = journey.decider
    response = curator_client.get(reverse("admin:events_actor_change", args=[actor.pk]))
    data = form_data(response) | {"name": "Office of the Central Cyberspace Affairs Commission"}

    response = curator_client.post(reverse("admin:events_actor_change", args=[actor.pk]), data)

    assert response.status_code == 302, form_errors(response)
    event.refresh_from_db()
    assert list(Event.objects.matching("cyberspace affairs commission")) == [event]
    assert event.updated_at > updated_before
