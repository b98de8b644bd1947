"""Hostile values in the events admin's list filters and history pages: a 4xx, never a 500.

The sweep reads the changelist's parameters from the admin itself (every list filter's
expected parameters and the changelist's own variables), so a filter added later is swept too.
It signs in as the personas who use these pages, a curator and an editor, never a superuser.
"""

from urllib.parse import quote

import pytest
from django.contrib.admin.options import IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.urls import reverse

from events import choices
from events.admin.events import EventAdmin
from events.models import Event
from events.services import CURATOR_GROUP, EDITOR_GROUP
from tests.admin_forms import form_data
from tests.factories import (
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    member_of,
)

CHANGELIST = reverse("admin:events_event_changelist")
HUGE = "9" * 20
HOSTILE = (
    HUGE,
    "-" + HUGE,
    "9" * 400,
    "-1",
    "0",
    "abc",
    "1.5",
    "1e400",
    "nan",
    "١٢",  # Arabic-Indic digits: int() reads them as 12
    "\x00",
    "1\x00",
    "x" * 5000,
    "中国 🙂",
    "' OR 1=1 --",
    "1; DROP TABLE events_event",
    "2014-13-45",
    "2014-02-30",
    "0000-00-00",
    "(",
    "[",
    "",
    " ",
    "%",
    "_",
    "-",
    "..",
)
# The changelist's own variables, beside the list filters' parameters.
CHANGELIST_VARS = (
    ALL_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
)
# Lookups that no filter declares. Django would run those on the event's own columns, where a
# bad value crashed the query (title__regex=(, date_earliest__year=0, id__in=<20 digits>).
UNDECLARED_LOOKUPS = (
    "title__regex",
    "public_id__iregex",
    "internal_notes__icontains",
    "date_earliest__year",
    "date_earliest__iso_year",
    "date_earliest__gte",
    "created_at__date",
    "latitude__gt",
    "id",
    "id__in",
    "id__range",
    "version__lt",
    "updated_by",
    "status__in",
    "year__gt",
    "event_type__slug",
    "created_by__password__startswith",
)


@pytest.fixture
def personas(db):
    return {
        "curator": member_of(CURATOR_GROUP, "hostile-curator"),
        "editor": member_of(EDITOR_GROUP, "hostile-editor"),
    }


@pytest.fixture(params=["curator", "editor"])
def persona_client(request, client, personas):
    client.force_login(personas[request.param])
    return client


@pytest.fixture
def events(db):
    """Events spread over two of everything, so that every list filter shows; one deleted."""
    platforms = PlatformFactory.create_batch(2)
    kept = [
        EventFactory(
            event_type=EventTypeFactory(category=EventCategoryFactory()),
            country=country,
            date_text=date_text,
            status=status,
        )
        for country, date_text, status in (
            ("CN", "2014-05-27", choices.EventStatus.DRAFT),
            ("IR", "2019-11", choices.EventStatus.IN_REVIEW),
        )
    ]
    for event, platform in zip(kept, platforms, strict=True):
        event.platforms.add(platform)
    deleted = EventFactory(title="Deleted draft")
    deleted_pk = deleted.pk
    deleted.delete()
    deleted.pk = deleted_pk  # delete() forgets it; its history and these tests do not
    return {"existing": kept[0], "deleted": deleted}


def changelist_parameters(client):
    """Return every GET parameter the events changelist reads, as the admin declares them."""
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    specs = response.context["cl"].filter_specs
    assert len(specs) == len(EventAdmin.list_filter)  # every filter shows, so every one is swept
    filters = [name for spec in specs for name in spec.expected_parameters()]
    # Equality on a filtered field is the sidebar's choice written by hand (status=draft).
    fields = [
        item[0] if isinstance(item, tuple) else item
        for item in EventAdmin.list_filter
        if not isinstance(item, type)
    ]
    return list(dict.fromkeys([*filters, *fields, *CHANGELIST_VARS]))


def answer(client, method, url, data=None):
    """Return the status of a request, or the exception a 500 would have come from."""
    try:
        return getattr(client, method)(url, data or {}).status_code
    except Exception as error:  # report every crash of the sweep at once, not just the first
        return f"{type(error).__name__}: {str(error)[:200]}"


def assert_no_server_error(results):
    crashed = [
        f"{where[:80]} = {value[:40]!r}: {outcome}"
        for where, value, outcome in results
        if not isinstance(outcome, int) or outcome >= 500
    ]
    assert not crashed, "\n".join(crashed)


# The changelist --------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_every_changelist_parameter_answers_a_hostile_value_without_a_server_error(
    persona_client, events, value
):
    results = [
        (name, value, answer(persona_client, "get", CHANGELIST, {name: value}))
        for name in changelist_parameters(persona_client)
    ]
    assert_no_server_error(results)


def test_every_changelist_parameter_repeated_with_hostile_values_answers(persona_client, events):
    names = changelist_parameters(persona_client)
    results = [
        (name, "repeated", answer(persona_client, "get", CHANGELIST, {name: list(HOSTILE)}))
        for name in names
    ]
    everything = {name: list(HOSTILE) for name in names}
    results.append(("all at once", "", answer(persona_client, "get", CHANGELIST, everything)))
    assert_no_server_error(results)


@pytest.mark.parametrize("lookup", UNDECLARED_LOOKUPS)
def test_a_lookup_no_filter_declares_is_refused_whatever_its_value(persona_client, events, lookup):
    results = [
        (lookup, value, answer(persona_client, "get", CHANGELIST, {lookup: value}))
        for value in HOSTILE
    ]
    assert {outcome for _lookup, _value, outcome in results} == {400}


def test_a_parameter_with_a_hostile_name_is_refused(persona_client, events):
    declared = set(changelist_parameters(persona_client))
    results = [
        (name, "1", answer(persona_client, "get", CHANGELIST, {name: "1"}))
        for name in HOSTILE
        if name not in declared
    ]
    assert {outcome for _name, _value, outcome in results} == {400}


@pytest.mark.parametrize("name", ["status__exact", "verification__exact", "country", "year"])
def test_a_nul_character_in_a_filter_value_is_refused_with_a_reason(persona_client, events, name):
    # PostgreSQL cannot take a NUL in a string: the query used to crash as it ran.
    response = persona_client.get(CHANGELIST, {name: "draft\x00"})

    assert response.status_code == 400
    assert "holds a NUL character" in response.content.decode()


@pytest.mark.parametrize("year", [HUGE, "-" + HUGE, "10000", "0", "abc"])
def test_a_year_the_calendar_has_not_is_refused_with_a_reason(persona_client, events, year):
    response = persona_client.get(CHANGELIST, {"year": year})

    assert response.status_code == 400
    assert "The year filter takes a year from 1 to 9999" in response.content.decode()


def test_a_filter_value_django_cannot_read_is_refused_with_a_reason(persona_client, events):
    response = persona_client.get(CHANGELIST, {"event_type__id__exact": "abc"})

    assert response.status_code == 400
    assert "A filter&#x27;s value cannot be read" in response.content.decode()


@pytest.mark.parametrize("name", ["event_type", "event_type__exact", "platforms"])
def test_equality_on_a_filtered_field_takes_only_values_its_column_holds(
    persona_client, events, name
):
    existing = events["existing"]
    wanted = (
        existing.event_type.pk if name.startswith("event_type") else existing.platforms.get().pk
    )

    assert persona_client.get(CHANGELIST, {name: HUGE}).status_code == 400
    response = persona_client.get(CHANGELIST, {name: wanted})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [existing]


def test_a_year_the_calendar_has_still_filters(persona_client, events):
    response = persona_client.get(CHANGELIST, {"year": "2014"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [events["existing"]]


# History and restoring -------------------------------------------------------------------


def history_url(object_id):
    return f"{CHANGELIST}{object_id}/history/"


def version_url(object_id, version_id):
    return f"{history_url(object_id)}{version_id}/"


def hostile_ids():
    """Return the hostile values as path segments, percent-encoded as a browser sends them."""
    return [quote(value, safe="") for value in HOSTILE if value.strip()]


def latest_version(event):
    return Event.history.filter(id=event.pk).latest("history_date").history_id


def test_history_pages_of_hostile_ids_answer_without_a_server_error(persona_client, events):
    existing, deleted = events["existing"], events["deleted"]
    results = [
        (url, object_id, answer(persona_client, method, url))
        for object_id in hostile_ids()
        for method in ("get", "post")
        for url in (
            history_url(object_id),
            version_url(object_id, latest_version(existing)),
            version_url(existing.pk, object_id),
            version_url(deleted.pk, object_id),
            version_url(object_id, object_id),
        )
    ]
    assert_no_server_error(results)


@pytest.mark.parametrize("object_id", ["abc", HUGE, "-1", "1%00"])
def test_history_of_an_id_that_names_no_event_is_not_found(persona_client, events, object_id):
    assert persona_client.get(history_url(object_id)).status_code == 404
    version = latest_version(events["existing"])
    assert persona_client.get(version_url(object_id, version)).status_code == 404
    assert persona_client.post(version_url(events["existing"].pk, object_id)).status_code == 404


def test_a_version_of_another_event_is_not_found(persona_client, events):
    url = version_url(events["existing"].pk, latest_version(events["deleted"]))

    assert persona_client.get(url).status_code == 404


def test_history_pages_answer_hostile_page_numbers(persona_client, events):
    results = [
        (event, value, answer(persona_client, "get", history_url(events[event].pk), {"p": value}))
        for event in ("existing", "deleted")
        for value in HOSTILE
    ]
    assert_no_server_error(results)


def restore_form(client, event):
    """Return the URL of the event's latest version and the form data its page would post."""
    url = version_url(event.pk, latest_version(event))
    response = client.get(url)
    assert response.status_code == 200
    return url, form_data(response)


def test_a_deleted_events_version_can_be_read_but_offers_no_restore(persona_client, events):
    response = persona_client.get(
        version_url(events["deleted"].pk, latest_version(events["deleted"]))
    )

    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert "has been deleted" in response.content.decode()


@pytest.mark.parametrize("read_version", ["leave out", "", "1", HUGE])
def test_restoring_a_deleted_event_is_refused_and_saves_nothing(
    persona_client, events, read_version
):
    deleted = events["deleted"]
    url, data = restore_form(persona_client, deleted)
    if read_version == "leave out":
        data.pop("read_version")
    else:
        data["read_version"] = read_version
    versions = Event.history.filter(id=deleted.pk).count()

    response = persona_client.post(url, data)

    assert response.status_code == 404
    assert f"{deleted.public_id} has been deleted" in response.content.decode()
    assert "Nothing was saved." in response.content.decode()
    assert not Event.objects.filter(pk=deleted.pk).exists()
    assert Event.history.filter(id=deleted.pk).count() == versions


def test_restoring_an_existing_event_still_works(persona_client, events):
    existing = events["existing"]
    url, data = restore_form(persona_client, existing)

    response = persona_client.post(url, data | {"title": "Restored"})

    assert response.status_code == 302
    assert Event.objects.get(pk=existing.pk).title == "Restored"


@pytest.mark.parametrize("event", ["existing", "deleted"])
def test_every_restore_form_field_answers_hostile_values_and_loses_nothing(
    client, personas, events, event
):
    # As the curator alone: an editor restores through the same form, and the sweep is long.
    client.force_login(personas["curator"])
    url, data = restore_form(client, events[event])
    versions = Event.history.filter(id=events[event].pk).count()
    results = [
        (name, str(value)[:40], answer(client, "post", url, data | {name: value}))
        for name in data
        for value in (*HOSTILE, list(HOSTILE))
    ]
    assert_no_server_error(results)
    # A refused post writes nothing; a restore only adds a version, never takes one away.
    assert Event.history.filter(id=events[event].pk).count() >= versions
    assert Event.objects.filter(pk=events[event].pk).exists() == (event == "existing")
