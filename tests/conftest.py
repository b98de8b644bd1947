import pytest
from django.core.cache import cache
from django.db import connection, connections

from events.services import CURATOR_GROUP, EDITOR_GROUP
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


@pytest.fixture(autouse=True)
def public_change_log(request):
    """Keep the public change log (migration 0011's triggers) true to each test's database.

    On PostgreSQL the triggers wait for the commit, and a test wrapped in a transaction never
    commits: there, SET CONSTRAINTS makes them fire at each statement for this transaction
    alone, as SQLite's always do. Tests that commit for real (transaction=True, a live
    server) keep the deferred triggers production runs with.

    On SQLite, Django empties the tables after a test that commits with DELETE, which the
    delete trigger logs: with no event left, those rows are no later test's history.
    """
    marker = request.node.get_closest_marker("django_db")
    committing = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if marker is None and not committing and "db" not in request.fixturenames:
        return
    request.getfixturevalue("_django_db_helper")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM events_publicchange WHERE NOT EXISTS (SELECT 1 FROM events_event)"
            )
    elif connection.vendor == "postgresql" and not committing:
        for alias in connections:
            if connections[alias].in_atomic_block:
                with connections[alias].cursor() as cursor:
                    cursor.execute(
                        "SET CONSTRAINTS events_event_public_change, "
                        "events_release_public_change IMMEDIATE"
                    )


@pytest.fixture(autouse=True)
def releases_storage(tmp_path_factory, settings):
    """Write every test's data releases into a folder of its own, never into the checkout."""
    location = tmp_path_factory.mktemp("releases")
    settings.STORAGES = settings.STORAGES | {
        "releases": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        }
    }
    return location


# Personas, as the groups make them: a curator records events and sends them to review; an
# editor also publishes, returns, retracts, imports and deletes. A superuser only where a
# test is about superusers.
@pytest.fixture
def curator(db):
    return member_of(CURATOR_GROUP, "curator")


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


@pytest.fixture
def superuser(db):
    return UserFactory(username="superuser", is_superuser=True)


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client
