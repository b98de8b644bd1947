"""The other admin lists and history pages (actors, platforms, sources, the taxonomy, the
review queue) answer hostile values as the events list does: a 4xx with a reason, never a
500. Each list's parameters are read from the admin itself."""

import pytest
from django.contrib import admin
from django.urls import reverse

from events.models import Actor, EventCategory, EventInReview, EventType, Platform, Source, Tag
from events.services import CURATOR_GROUP, EDITOR_GROUP
from tests.events.test_admin_hostile_values import (
    HOSTILE,
    answer,
    assert_no_server_error,
    hostile_ids,
)
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

pytestmark = pytest.mark.django_db

LISTS = (Actor, Platform, Source, EventType, EventCategory, Tag, EventInReview)
WITH_HISTORY = (Actor, Platform, Source)
UNDECLARED = ("id__in", "id__range", "pk__gt", "created_at__year", "name__regex", "title__regex")


@pytest.fixture(params=["curator", "editor"])
def persona_client(request, client):
    group = {"curator": CURATOR_GROUP, "editor": EDITOR_GROUP}[request.param]
    client.force_login(member_of(group, f"hostile-{request.param}"))
    return client


@pytest.fixture
def rows():
    """Two of each kind, so that every list filter shows; an event in review."""
    for _ in range(2):
        ActorFactory()
        PlatformFactory()
        SourceFactory()
        TagFactory()
        EventTypeFactory(category=EventCategoryFactory())
    EventFactory(status="in_review")
    return {model: model.objects.first() for model in WITH_HISTORY}


def changelist(model):
    return reverse(f"admin:events_{model._meta.model_name}_changelist")


def parameters(client, model):
    """Every GET parameter the list reads: its filters' parameters and filtered fields."""
    response = client.get(changelist(model))
    assert response.status_code == 200, model
    names = [
        name for spec in response.context["cl"].filter_specs for name in spec.expected_parameters()
    ]
    model_admin = admin.site._registry[model]
    fields = [item[0] if isinstance(item, tuple) else item for item in model_admin.list_filter]
    return names + [field for field in fields if isinstance(field, str)] + ["q", "o", "p"]


@pytest.mark.parametrize("model", LISTS, ids=lambda model: model._meta.model_name)
def test_every_list_parameter_answers_hostile_values(persona_client, rows, model):
    results = [
        (
            f"{model._meta.model_name}?{name}",
            value,
            answer(persona_client, "get", changelist(model), {name: value}),
        )
        for name in parameters(persona_client, model)
        for value in HOSTILE
    ]
    assert_no_server_error(results)


@pytest.mark.parametrize("model", LISTS, ids=lambda model: model._meta.model_name)
@pytest.mark.parametrize("lookup", UNDECLARED)
def test_a_lookup_no_filter_declares_is_refused_with_a_reason(persona_client, rows, model, lookup):
    response = persona_client.get(changelist(model), {lookup: "9" * 20})

    assert response.status_code == 400
    assert "Filters not applied" in response.content.decode()


@pytest.mark.parametrize("model", WITH_HISTORY, ids=lambda model: model._meta.model_name)
def test_history_pages_of_hostile_ids_answer_without_a_server_error(persona_client, rows, model):
    name = model._meta.model_name
    row = rows[model]
    results = []
    for value in hostile_ids():
        for url in (
            f"/admin/events/{name}/{value}/history/",
            f"/admin/events/{name}/{row.pk}/history/{value}/",
        ):
            results.append((url, value, answer(persona_client, "get", url)))
            results.append((url, value, answer(persona_client, "post", url, {"name": "x"})))
    assert_no_server_error(results)


@pytest.mark.parametrize("model", WITH_HISTORY, ids=lambda model: model._meta.model_name)
def test_a_history_id_that_cannot_be_a_key_is_not_found(persona_client, rows, model):
    name = model._meta.model_name

    assert persona_client.get(f"/admin/events/{name}/abc/history/").status_code == 404
    assert (
        persona_client.get(f"/admin/events/{name}/{rows[model].pk}/history/abc/").status_code == 404
    )
