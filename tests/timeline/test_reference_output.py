"""Every seed event and a few hundred generated ones, as the API writes them, against the
frozen reference (tests.timeline.reference): the registry's SQL changed how the object is
written, never what it says. Runs on SQLite and on PostgreSQL alike.

Unlike the rest of the suite this reads seeds/ and fixtures/: the seed timeline is the data
the issue asked to compare.
"""

import json

import pytest
from django.core.management import call_command
from django.test import RequestFactory

from events.models import Event
from events.services.synthetic import events_generate
from tests.factories import EventTypeFactory
from tests.timeline.reference import reference_events

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"


def api_list(client):
    items, url = [], f"{EVENTS}?page_size=1000"
    while url:
        body = client.get(url).json()
        items += body["results"]
        url = body["next"]
    return items


def ndjson(client, query=""):
    body = b"".join(client.get(f"{EVENTS}?format=ndjson{query}").streaming_content)
    return [json.loads(line) for line in body.decode().splitlines()]


def assert_api_is_the_reference(client):
    expected = reference_events(RequestFactory().get(EVENTS))
    listed = api_list(client)

    assert len(listed) == len(expected) == Event.objects.published().count()
    assert {item["id"]: item for item in listed} == expected
    assert {item["id"]: item for item in ndjson(client)} == expected
    for public_id in list(expected)[:: max(1, len(expected) // 20)]:
        assert client.get(f"{EVENTS}{public_id}/").json() == expected[public_id]


def test_every_seed_event_is_written_as_the_reference(client):
    call_command("load_seed", verbosity=0)

    assert_api_is_the_reference(client)


def test_generated_events_are_written_as_the_reference(client):
    for slug in ("account-removal", "arrest-detention", "blocking"):
        EventTypeFactory(slug=slug)
    events_generate(count=300, seed=12, actors=40, platforms=15, sources=120)

    assert_api_is_the_reference(client)
