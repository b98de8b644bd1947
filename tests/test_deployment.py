"""Production serving: settings from the environment, read replicas, the Redis cache, static files.

The replica tests at the end need DATABASE_REPLICA_URLS (CI points it at DATABASE_URL, so each
replica is a test mirror of the primary) and the Redis tests need REDIS_URL; without them they
are skipped, and REPLICA_TESTS_REQUIRED=1 or REDIS_TESTS_REQUIRED=1 turns the skip into a
failure.
"""

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path, resolve, reverse
from rest_framework.throttling import AnonRateThrottle

from config import routers
from config.middleware import PIN_COOKIE, ReplicaMiddleware
from config.routers import ReplicaRouter, bound_to_scope, replica_reads
from events.choices import EventStatus
from events.models import Event
from tests.admin_forms import form_data
from tests.factories import EventFactory
from timeline import exports

REPLICAS = ["replica1", "replica2"]
API = "/api/v1/events/"

# Settings read from the environment ------------------------------------------------------------

SETTINGS_PROBE = """
import json, sys
from django.core.exceptions import ImproperlyConfigured
try:
    from config import settings
except ImproperlyConfigured as error:
    print(json.dumps({"error": str(error)}))
else:
    print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))
"""
# Cleared for each probe, so the settings see only what a test sets.
PROBED_VARIABLES = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "HTTPS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "STATIC_MANIFEST",
    "DATABASE_URL",
    "DATABASE_REPLICA_URLS",
    "CONN_MAX_AGE",
    "REPLICA_PIN_SECONDS",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "RELEASES_DIR",
    "RELEASES_STORAGE",
    "RELEASES_STORAGE_OPTIONS",
)


def clean_environment(**variables):
    env = {name: value for name, value in os.environ.items() if name not in PROBED_VARIABLES}
    return env | variables


def settings_under(names, **variables):
    """Return some settings as config/settings.py computes them in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE, *names],
        cwd=settings.BASE_DIR,
        env=clean_environment(**variables),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def production(**variables):
    return {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)} | variables


def test_replica_urls_become_mirrored_aliases_with_the_router_and_middleware():
    urls = "postgres://reader@db-a:5432/timeline, postgres://reader@db-b:5433/timeline"
    found = settings_under(
        ["DATABASES", "DATABASE_REPLICAS", "DATABASE_ROUTERS", "MIDDLEWARE"],
        DATABASE_URL="postgres://writer@db-main:5432/timeline",
        DATABASE_REPLICA_URLS=urls,
    )

    databases = found["DATABASES"]
    assert found["DATABASE_REPLICAS"] == ["replica1", "replica2"]
    assert [databases[alias]["HOST"] for alias in ("default", "replica1", "replica2")] == [
        "db-main",
        "db-a",
        "db-b",
    ]
    for alias in found["DATABASE_REPLICAS"]:
        assert databases[alias]["TEST"] == {"MIRROR": "default"}
        assert (databases[alias]["CONN_MAX_AGE"], databases[alias]["CONN_HEALTH_CHECKS"]) == (
            60,
            True,
        )
    assert found["DATABASE_ROUTERS"] == ["config.routers.ReplicaRouter"]
    middleware = found["MIDDLEWARE"]
    assert middleware.index("config.middleware.ReplicaMiddleware") == (
        middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1
    )


def test_without_replica_urls_there_is_one_database_and_no_router():
    found = settings_under(["DATABASES", "DATABASE_ROUTERS", "MIDDLEWARE"])

    assert list(found["DATABASES"]) == ["default"]
    assert found["DATABASE_ROUTERS"] == []
    assert "config.middleware.ReplicaMiddleware" not in found["MIDDLEWARE"]


def test_a_bad_pin_duration_stops_the_start_with_its_name():
    found = settings_under([], REPLICA_PIN_SECONDS="soon")

    assert found["error"] == "REPLICA_PIN_SECONDS must be a whole number, not 'soon'."


SECURITY = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
]


def test_production_defaults_to_https_with_secure_cookies_hsts_and_hashed_static_files():
    found = settings_under([*SECURITY, "STORAGES"], **production())

    assert [found[name] for name in SECURITY] == [True, True, True, 31_536_000, True]
    assert found["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_production_on_plain_http_sends_no_redirect_secure_cookie_or_hsts():
    found = settings_under(SECURITY, **production(HTTPS="false"))

    assert [found[name] for name in SECURITY] == [False, False, False, 0, False]


def test_development_serves_the_apps_static_files_without_collectstatic():
    found = settings_under(
        ["STORAGES", "WHITENOISE_USE_FINDERS", "WHITENOISE_AUTOREFRESH", "SECURE_SSL_REDIRECT"]
    )

    assert found["STORAGES"]["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    assert found["WHITENOISE_USE_FINDERS"] and found["WHITENOISE_AUTOREFRESH"]
    assert not found["SECURE_SSL_REDIRECT"]


def test_redis_url_selects_the_shared_redis_cache_and_none_a_per_process_cache():
    shared = settings_under(["CACHES"], REDIS_URL="redis://127.0.0.1:6379/3")["CACHES"]
    local = settings_under(["CACHES"])["CACHES"]

    assert shared["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert (shared["default"]["LOCATION"], shared["default"]["KEY_PREFIX"]) == (
        "redis://127.0.0.1:6379/3",
        "timeline",
    )
    assert local["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_releases_go_to_a_folder_unless_the_environment_names_a_storage():
    folder = settings_under(["STORAGES"], RELEASES_DIR="/srv/releases")["STORAGES"]
    shared = settings_under(
        ["STORAGES"],
        RELEASES_STORAGE="storages.backends.s3.S3Storage",
        RELEASES_STORAGE_OPTIONS='{"bucket_name": "timeline-releases", "querystring_auth": false}',
    )["STORAGES"]

    assert folder["releases"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/srv/releases", "base_url": None},
    }
    assert shared["releases"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "timeline-releases", "querystring_auth": False},
    }


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        (
            {"RELEASES_STORAGE_OPTIONS": "{bucket_name: releases}"},
            'RELEASES_STORAGE_OPTIONS must be a JSON object such as {"bucket_name": "releases"}, '
            "not '{bucket_name: releases}'.",
        ),
        (
            {"RELEASES_STORAGE_OPTIONS": '["releases"]'},
            'RELEASES_STORAGE_OPTIONS must be a JSON object such as {"bucket_name": "releases"}, '
            "not '[\"releases\"]'.",
        ),
        (
            {"RELEASES_STORAGE": "S3 storage"},
            "RELEASES_STORAGE must be a class's dotted path such as "
            "django.core.files.storage.FileSystemStorage, not 'S3 storage'.",
        ),
    ],
)
def test_bad_release_storage_settings_stop_the_start_with_their_name(variables, error):
    assert settings_under([], **variables)["error"] == error


def test_check_deploy_finds_nothing_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=clean_environment(**production(ALLOWED_HOSTS="timeline.example.org")),
        capture_output=True,
        text=True,
        check=True,
    )

    output = result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in output, output


# The router ----------------------------------------------------------------------------------


def test_reads_outside_a_request_go_to_the_primary():
    assert ReplicaRouter(REPLICAS).db_for_read(Event) == DEFAULT_DB_ALIAS


def test_reads_in_a_replica_scope_stay_on_the_replica_the_first_read_chose():
    router = ReplicaRouter(REPLICAS)

    with replica_reads():
        chosen = {router.db_for_read(Event) for _ in range(20)}

    assert len(chosen) == 1
    assert chosen <= set(REPLICAS)


def test_each_scope_chooses_its_replica_at_random():
    router = ReplicaRouter(REPLICAS)
    chosen = set()
    for _ in range(200):  # the chance of never meeting one of two replicas is 2**-199
        with replica_reads():
            chosen.add(router.db_for_read(Event))

    assert chosen == set(REPLICAS)


def test_writes_go_to_the_primary_even_in_a_replica_scope():
    with replica_reads():
        assert ReplicaRouter(REPLICAS).db_for_write(Event) == DEFAULT_DB_ALIAS


def test_a_router_without_replicas_reads_from_the_primary():
    with replica_reads():
        assert ReplicaRouter([]).db_for_read(Event) == DEFAULT_DB_ALIAS


def test_relations_are_allowed_across_aliases_and_migrations_run_on_the_primary_only():
    router = ReplicaRouter(REPLICAS)

    assert router.allow_relation(Event(), Event())
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "events")
    assert not router.allow_migrate("replica1", "events")


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_on_the_primary_go_to_the_primary():
    router = ReplicaRouter(REPLICAS)

    with replica_reads():
        assert router.db_for_read(Event) in REPLICAS
        with transaction.atomic():
            assert router.db_for_read(Event) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Event) in REPLICAS


def test_the_router_is_set_exactly_when_replicas_are_configured():
    has_router = settings.DATABASE_ROUTERS == ["config.routers.ReplicaRouter"]
    has_middleware = "config.middleware.ReplicaMiddleware" in settings.MIDDLEWARE

    assert has_router == has_middleware == bool(settings.DATABASE_REPLICAS)


@override_settings(DATABASE_ROUTERS=[ReplicaRouter(REPLICAS)])
def test_a_queryset_asks_for_its_database_when_evaluated_not_when_built():
    """What the middleware works around for streamed bodies."""
    with replica_reads():
        built_inside = Event.objects.filter(status=EventStatus.PUBLISHED)
        assert built_inside.db in REPLICAS

    assert built_inside.db == DEFAULT_DB_ALIAS  # the scope is gone by the time it runs


@override_settings(DATABASE_ROUTERS=[ReplicaRouter(REPLICAS)])
def test_a_body_bound_to_a_scope_reads_from_its_replica_and_leaves_no_scope_behind():
    def body():
        for _ in range(3):
            yield Event.objects.all().db

    with replica_reads():
        scope = routers.current_scope()
        chunks = bound_to_scope(body(), scope)

    databases = list(chunks)
    assert len(set(databases)) == 1
    assert databases[0] in REPLICAS
    assert routers.current_scope() is None


# The middleware ------------------------------------------------------------------------------


def read_database(request, response=None):
    """Run a request through the middleware; return where its view read and the response."""
    router = ReplicaRouter(["replica1"])
    seen = {}

    def view_chain(request):
        request.resolver_match = resolve(request.path_info)  # as Django's handler does
        middleware.process_view(request, None, (), {})
        seen["database"] = router.db_for_read(Event)
        return response or HttpResponse("ok")

    middleware = ReplicaMiddleware(view_chain)
    returned = middleware(request)
    assert routers.current_scope() is None, "the scope outlived the request"
    return seen["database"], returned


def anonymous(request, **cookies):
    request.user = SimpleNamespace(is_authenticated=False)
    request.COOKIES.update(cookies)
    return request


def pin_for(seconds_from_now):
    return {PIN_COOKIE: str(int(time.time() + seconds_from_now))}


def test_an_anonymous_get_of_the_api_may_read_from_a_replica(rf: RequestFactory):
    assert read_database(anonymous(rf.get(API)))[0] == "replica1"


@pytest.mark.parametrize("method", ["head", "options"])
def test_other_safe_methods_may_read_from_a_replica(rf, method):
    assert read_database(anonymous(getattr(rf, method)(API)))[0] == "replica1"


def test_a_post_reads_from_the_primary_and_pins_the_client(rf, settings):
    settings.REPLICA_PIN_SECONDS = 10
    before = time.time()

    database, response = read_database(anonymous(rf.post("/admin/logout/")))

    assert database == DEFAULT_DB_ALIAS
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 10
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(before) + 10 <= int(cookie.value) <= int(time.time()) + 10


def test_no_pin_is_set_when_pinning_is_turned_off(rf, settings):
    settings.REPLICA_PIN_SECONDS = 0

    _, response = read_database(anonymous(rf.post("/admin/logout/")))

    assert PIN_COOKIE not in response.cookies


def test_a_get_sets_no_pin(rf):
    _, response = read_database(anonymous(rf.get(API)))

    assert PIN_COOKIE not in response.cookies


def test_the_admin_reads_from_the_primary(rf):
    assert read_database(anonymous(rf.get(reverse("admin:index"))))[0] == DEFAULT_DB_ALIAS


# A URLconf with the admin mounted elsewhere, for the test below.
urlpatterns = [
    path("curation/", admin.site.urls),
    path("plain/", lambda request: HttpResponse("plain")),
]


@pytest.mark.urls(__name__)
def test_the_admin_is_known_by_its_views_wherever_it_is_mounted(rf):
    assert read_database(anonymous(rf.get("/curation/")))[0] == DEFAULT_DB_ALIAS
    assert read_database(anonymous(rf.get("/plain/")))[0] == "replica1"


def test_a_logged_in_curator_reads_the_api_from_the_primary(rf):
    request = rf.get(API)
    request.user = SimpleNamespace(is_authenticated=True)

    assert read_database(request)[0] == DEFAULT_DB_ALIAS


def test_a_client_that_wrote_seconds_ago_reads_from_the_primary(rf):
    assert read_database(anonymous(rf.get(API), **pin_for(5)))[0] == DEFAULT_DB_ALIAS


@pytest.mark.parametrize(
    "cookies",
    [pin_for(-1), pin_for(3600), {PIN_COOKIE: "forever"}],
    ids=["expired", "further-ahead-than-we-set", "not-a-time"],
)
def test_a_pin_we_did_not_set_or_that_expired_is_ignored(rf, cookies):
    assert read_database(anonymous(rf.get(API), **cookies))[0] == "replica1"


def test_a_streamed_body_reads_from_the_request_replica_after_the_middleware_returned(rf):
    router = ReplicaRouter(["replica1"])
    streamed = StreamingHttpResponse(router.db_for_read(Event) for _ in range(3))

    _, response = read_database(anonymous(rf.get(f"{API}?format=csv")), streamed)

    assert routers.current_scope() is None
    assert b"".join(response.streaming_content) == b"replica1" * 3
    assert routers.current_scope() is None


# Static files as bin/serve serves them -------------------------------------------------------


def as_served(static_root):
    """Settings as bin/serve has them: hashed, compressed files collected into static_root."""
    return override_settings(
        STATIC_ROOT=static_root,
        STORAGES={
            "default": settings.STORAGES["default"],
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    )


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory):
    root = tmp_path_factory.mktemp("staticfiles")
    with as_served(root):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


def linked_static_files(html):
    return [part.split('"')[0] for part in html.split('"/static/')[1:]]


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/", "/about/", "/admin/login/", "/api/docs/"])
def test_pages_render_with_hashed_static_files_that_whitenoise_serves(collected_static, page):
    cache.clear()  # a page cached under the development storage would name unhashed files
    with as_served(collected_static):
        client = Client()
        response = client.get(page)
        assert response.status_code == 200
        names = linked_static_files(response.content.decode())
        assert names, f"{page} links no static file"
        for name in names:
            served = client.get(f"/static/{name}")
            assert served.status_code == 200, name
            assert "immutable" in served["Cache-Control"], name
            served.close()
    cache.clear()


# Replicas, end to end (DATABASE_REPLICA_URLS) ------------------------------------------------


@pytest.fixture
def replicas():
    if not settings.DATABASE_REPLICAS:
        message = (
            "needs a read replica: set DATABASE_REPLICA_URLS (CI sets it to DATABASE_URL, "
            "which makes the replica a test mirror of the primary)"
        )
        if os.environ.get("REPLICA_TESTS_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    return settings.DATABASE_REPLICAS


@contextmanager
def queries_by_database():
    """Capture the queries of every configured database alias."""
    with ExitStack() as stack:
        yield {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in connections
        }


def replica_queries(captured, replicas):
    return {alias: len(captured[alias]) for alias in replicas if len(captured[alias])}


def change_title(client, event, title):
    url = reverse("admin:events_event_change", args=[event.pk])
    form = client.get(url)
    assert form.status_code == 200
    return client.post(url, form_data(form) | {"title": title})


def listed_titles(response):
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def event_reads(queries):
    """Return the reads of events (not the data-version query): the ORM's, or a page of
    events.public.documents (plain, or as a prepared statement)."""
    starts = ('SELECT "events_event"', "WITH page AS", "EXECUTE public_", "PREPARE public_")
    return [
        q["sql"] for q in queries if q["sql"].startswith(starts) or " PREPARE public_" in q["sql"]
    ]


# transaction=True: a replica is another connection, which sees committed rows only.
end_to_end = pytest.mark.django_db(transaction=True, databases="__all__")


@end_to_end
def test_an_anonymous_api_read_runs_its_queries_on_one_replica(replicas, client):
    EventFactory(published=True, cited=True, title="Accounts removed")

    with queries_by_database() as captured:
        titles = listed_titles(client.get(API))

    assert titles == ["Accounts removed"]
    used = replica_queries(captured, replicas)
    assert len(used) == 1
    (replica,) = used
    assert event_reads(captured[replica])
    assert not event_reads(captured[DEFAULT_DB_ALIAS])


@end_to_end
def test_an_anonymous_api_read_never_touches_the_primary(replicas, client):
    EventFactory(published=True, cited=True, title="Accounts removed")

    with queries_by_database() as captured:
        listed_titles(client.get(API))

    assert [q["sql"] for q in captured[DEFAULT_DB_ALIAS]] == []


@end_to_end
def test_a_streamed_export_keeps_reading_from_the_replica_while_it_streams(replicas, client):
    event = EventFactory(published=True, cited=True, title="Accounts removed")
    # TimelineJS reads its rows chunk by chunk through Django's cursors as it streams.
    response = client.get(f"{API}?format=timelinejs")
    assert response.status_code == 200

    with queries_by_database() as captured:
        body = b"".join(response.streaming_content).decode()

    assert json.loads(body)["events"][0]["unique_id"] == event.public_id
    assert captured[DEFAULT_DB_ALIAS].captured_queries == []
    assert replica_queries(captured, replicas), "the export read nothing while streaming"


@end_to_end
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_copy_export_runs_on_the_replica(replicas, client, monkeypatch, fmt):
    event = EventFactory(published=True, cited=True, title="Accounts removed")
    opened, streams = exports.copy_stream, []
    monkeypatch.setattr(
        exports, "copy_stream", lambda *args: streams.append(opened(*args)) or streams[-1]
    )

    with queries_by_database() as captured:
        body = b"".join(client.get(f"{API}?format={fmt}").streaming_content).decode()

    assert event.public_id in body
    assert [stream.connection.alias for stream in streams] == [replicas[0]]
    assert captured[DEFAULT_DB_ALIAS].captured_queries == []


@end_to_end
def test_an_editor_reads_and_writes_on_the_primary_in_the_admin_and_the_api(
    replicas, editor_client
):
    # An editor: a curator's edit of a published event waits for one and changes no title.
    event = EventFactory(published=True, cited=True, title="Accounts removed")

    with queries_by_database() as captured:
        response = change_title(editor_client, event, "Over 40 accounts removed")
        titles = listed_titles(editor_client.get(API))

    assert response.status_code == 302
    assert titles == ["Over 40 accounts removed"]
    writes = [q["sql"] for q in captured[DEFAULT_DB_ALIAS] if q["sql"].startswith("UPDATE")]
    assert any('"events_event"' in sql for sql in writes)
    assert replica_queries(captured, replicas) == {}
    assert PIN_COOKIE in response.cookies


@end_to_end
def test_a_read_right_after_a_write_goes_to_the_primary_until_the_pin_expires(
    replicas, editor_client
):
    event = EventFactory(published=True, cited=True, title="Accounts removed")
    change_title(editor_client, event, "Over 40 accounts removed")
    editor_client.post(reverse("admin:logout"))  # anonymous again, still pinned

    with queries_by_database() as pinned:
        titles = listed_titles(editor_client.get(API))
    del editor_client.cookies[PIN_COOKIE]  # what the browser does after REPLICA_PIN_SECONDS
    with queries_by_database() as unpinned:
        # Another URL, so that no cached body answers it.
        listed_titles(editor_client.get(API, {"page_size": 10}))

    assert titles == ["Over 40 accounts removed"]
    assert event_reads(pinned[DEFAULT_DB_ALIAS])
    assert replica_queries(pinned, replicas) == {}
    assert not event_reads(unpinned[DEFAULT_DB_ALIAS])
    assert any(event_reads(unpinned[alias]) for alias in replicas)


# The shared cache (REDIS_URL) ----------------------------------------------------------------


@pytest.fixture
def redis_client():
    if not settings.REDIS_URL:
        message = "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0"
        if os.environ.get("REDIS_TESTS_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def test_the_redis_cache_round_trips_and_another_process_sees_it(redis_client):
    key = f"deployment-test-{uuid.uuid4().hex}"

    cache.set(key, {"events": 7}, timeout=30)
    try:
        assert cache.get(key) == {"events": 7}
        stored = cache.make_and_validate_key(key)
        assert stored.startswith(f"{settings.CACHES['default']['KEY_PREFIX']}:")
        assert redis_client.exists(stored) == 1  # a separate connection, as another worker
        assert 0 < redis_client.ttl(stored) <= 30
    finally:
        cache.delete(key)
    assert redis_client.exists(stored) == 0


@pytest.mark.django_db
def test_redis_holds_the_api_throttle_counts_for_every_worker(redis_client, client):
    key = AnonRateThrottle.cache_format % {"scope": "anon", "ident": "127.0.0.1"}
    cache.delete(key)

    for _ in range(2):
        assert client.get(API).status_code == 200

    assert len(cache.get(key)) == 2
    assert redis_client.exists(cache.make_and_validate_key(key)) == 1
    cache.delete(key)
