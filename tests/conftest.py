import pytest
from django.core.cache import cache
from django.db import connection

from events.services import EDITOR_GROUP
from tests.factories import UserFactory, member_of


def pytest_collection_modifyitems(config, items):
    """Skip tests marked postgres when the suite runs on another database."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def empty_cache():
    """Start every test with an empty cache: fixtures may repeat a data version's moment."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def curator(db):
    return UserFactory(username="curator", is_superuser=True)


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def editor(db):
    return member_of(EDITOR_GROUP, "editor")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
