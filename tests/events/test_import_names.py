"""Types, roles and verification by name or code; new actor and platform names only if ticked."""

import pytest

from events import choices, services
from events.models import Actor, Event, EventActor, Platform
from tests.events.test_import import (
    confirm_form_of,
    csv_bytes,
    event_row,
    invalid_rows,
    preview,
    shown_messages,
)
from tests.factories import ActorFactory, EventTypeFactory, PlatformFactory, member_of


@pytest.fixture
def editor_of_imports(client, db):
    client.force_login(member_of(services.EDITOR_GROUP, "names-editor"))
    return client


@pytest.fixture
def known(db):
    EventTypeFactory(slug="account-removal", name="Account removal or suspension")
    return ActorFactory(name="Google"), PlatformFactory(name="WeChat")


def confirm_ticking(client, previewed, ticked=()):
    action, data = confirm_form_of(previewed)
    return client.post(action, {**data, "new_names": list(ticked)}, follow=True)


def new_name_keys(response):
    return [key for key, _described, _rows in response.context["result"].new_names]


@pytest.mark.parametrize(
    ("type_cell", "verification_cell", "role_cell"),
    [
        ("account-removal", "single_source", "implemented or enforced"),
        ("ACCOUNT-REMOVAL", "Corroborated", "ENFORCED"),
        ("account removal or suspension", "corroborated by independent sources", "Enforced"),
    ],
)
def test_types_roles_and_verification_are_read_by_name_or_code_in_any_case(
    editor_of_imports, known, type_cell, verification_cell, role_cell
):
    row = event_row(
        type=type_cell,
        category="",
        verification=verification_cell,
        actors=f"Google ({role_cell})",
        platforms="wechat",
    )

    previewed = preview(editor_of_imports, "event", csv_bytes([row]))
    confirm_ticking(editor_of_imports, previewed)

    event = Event.objects.get()
    assert event.event_type.slug == "account-removal"
    assert event.verification in (
        choices.Verification.SINGLE_SOURCE,
        choices.Verification.CORROBORATED,
    )
    assert list(event.actor_roles.values_list("actor__name", "role")) == [
        ("Google", choices.Role.ENFORCED)
    ]
    assert list(event.platforms.values_list("name", flat=True)) == ["WeChat"]


def test_an_unknown_role_or_verification_is_refused_with_what_is_accepted(editor_of_imports, known):
    rows = [event_row(actors="Google (boss)"), event_row(verification="probably")]

    refused = invalid_rows(preview(editor_of_imports, "event", csv_bytes(rows)))

    assert "'Google (boss)' is not 'name (role)'" in refused[1]["actors"][0]
    assert "enforced" in refused[1]["actors"][0]
    assert "is not one of single_source" in refused[2]["verification"][0]


def test_a_new_actor_name_is_shown_with_the_closest_existing_one(editor_of_imports, known):
    row = event_row(actors="Gooogle (implemented or enforced)", platforms="WeChat")

    previewed = preview(editor_of_imports, "event", csv_bytes([row]))

    page = previewed.content.decode()
    assert "new actor &#x27;Gooogle&#x27; (closest existing: Google)" in page
    assert new_name_keys(previewed) == ["actor:gooogle"]
    assert 'type="checkbox" name="new_names" value="actor:gooogle"' in page
    assert Actor.objects.count() == 1


def test_an_unticked_new_name_refuses_the_row_and_imports_nothing(editor_of_imports, known):
    rows = [event_row(title="Fine", actors="Google (ordered or decided)", platforms="WeChat")]
    rows.append(event_row(title="Typo", actors="Gooogle (ordered or decided)", platforms="Wechat"))
    previewed = preview(editor_of_imports, "event", csv_bytes(rows))

    response = confirm_ticking(editor_of_imports, previewed)

    (message,) = shown_messages(response)
    assert message.startswith("Nothing was imported: 1 row(s) have errors. row 2: actors: ")
    assert "new actor 'Gooogle' (closest existing: Google) was not ticked as new" in message
    assert Event.objects.count() == 0
    assert Actor.objects.count() == 1


def test_a_ticked_new_name_is_created_once_for_every_row_naming_it(editor_of_imports, known):
    rows = [
        event_row(title="One", actors="Northwind Telecom (implemented or enforced)"),
        event_row(title="Two", actors="northwind telecom (targeted)", platforms="Kanal"),
    ]
    previewed = preview(editor_of_imports, "event", csv_bytes(rows))
    assert new_name_keys(previewed) == ["actor:northwind telecom", "platform:kanal"]

    response = confirm_ticking(editor_of_imports, previewed, new_name_keys(previewed))

    assert shown_messages(response)[0].startswith("Import finished: 2 new")
    assert Actor.objects.filter(name="Northwind Telecom").count() == 1
    assert EventActor.objects.filter(actor__name="Northwind Telecom").count() == 2
    assert Platform.objects.filter(name="Kanal").count() == 1


def test_ticking_one_new_name_does_not_create_another(editor_of_imports, known):
    rows = [event_row(actors="Northwind Telecom (targeted)", platforms="Kanal")]
    previewed = preview(editor_of_imports, "event", csv_bytes(rows))

    confirm_ticking(editor_of_imports, previewed, ["actor:northwind telecom"])

    assert Event.objects.count() == 0
    assert not Actor.objects.filter(name="Northwind Telecom").exists()
    assert not Platform.objects.filter(name="Kanal").exists()
