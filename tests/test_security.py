"""Secure deployment: headers, cookies, sign-in throttling, API bursts, database faults, logs.

What a reader, a curator or an attacker meets at the door. The production settings are read in
a fresh process (tests.test_deployment.settings_under); the rest goes through real requests.
"""

import datetime
import json
import logging
import sqlite3
import time

import pytest
from axes.models import AccessAttempt
from django.db import InterfaceError, OperationalError, connection
from django.test import Client
from django.urls import path
from rest_framework.throttling import AnonRateThrottle

import config.urls
from events.choices import EventStatus
from events.services import CURATOR_GROUP, EDITOR_GROUP
from tests.admin_forms import sign_in
from tests.factories import EventFactory, member_of
from tests.test_deployment import production, settings_under
from timeline import views

EVENTS = "/api/v1/events/"
STATS = "/api/v1/stats/?group_by=month"
PASSWORD = "correct horse battery staple 42"
CSP = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}
EVERY_KIND_OF_URL = [
    "/",
    "/about/",
    EVENTS,
    f"{EVENTS}?format=csv",
    "/api/schema/",
    "/api/docs/",
    "/admin/login/",
    "/no/such/page/",
    "/api/v1/no-such-endpoint/",
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def curator_account(db):
    user = member_of(CURATOR_GROUP, "ada")
    user.set_password(PASSWORD)
    user.save()
    return user


# Headers and cookies -----------------------------------------------------------------------


@pytest.mark.parametrize("url", EVERY_KIND_OF_URL)
def test_every_response_carries_the_security_headers(db, client, url):
    response = client.get(url)

    expected = CSP
    if url == "/api/docs/":  # Swagger UI writes inline styles: this page alone allows them
        expected = CSP - {"style-src 'self'"} | {"style-src 'self' 'unsafe-inline'"}
    assert set(response["Content-Security-Policy"].split("; ")) == expected
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_https_responses_carry_a_preloadable_hsts_header(db, settings):
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True

    response = Client().get("/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_settings_send_cookies_only_over_https_and_never_to_scripts():
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "DEBUG",
    ]

    found = settings_under(names, **production(ALLOWED_HOSTS="timeline.example.org"))

    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "DEBUG": False,
    }


def test_the_admin_login_sets_http_only_cookies(client, curator_account):
    form = client.get("/admin/login/")
    assert sign_in(client, "ada", PASSWORD)

    assert form.cookies["csrftoken"]["httponly"]
    assert client.cookies["sessionid"]["httponly"]


# Sign-in throttling ------------------------------------------------------------------------


def failed_sign_in(client, username="ada"):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": "wrong password"}
    )


def test_five_failed_sign_ins_pause_that_account_from_that_address(client, curator_account):
    for _ in range(4):
        assert failed_sign_in(client).status_code == 200  # the form again, with its error
    fifth = failed_sign_in(client)

    refused = client.post("/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD})

    assert fifth.status_code == 429
    assert refused.status_code == 429
    text = refused.content.decode()
    assert "Too many failed sign-ins" in text
    assert "failed 5 times" in text
    assert "0:15:00" in text  # how long the pause lasts
    assert "sessionid" not in refused.cookies


def test_a_paused_sign_in_leaves_other_accounts_and_addresses_alone(client, curator_account):
    grace = member_of(EDITOR_GROUP, "grace")
    grace.set_password(PASSWORD)
    grace.save()
    for _ in range(5):
        failed_sign_in(client)

    assert sign_in(client, "grace", PASSWORD)
    assert sign_in(Client(REMOTE_ADDR="203.0.113.9"), "ada", PASSWORD)


def test_sign_in_works_again_once_the_pause_is_over(client, curator_account, settings):
    for _ in range(5):
        failed_sign_in(client)
    assert not sign_in(client, "ada", PASSWORD)

    past = datetime.timedelta(minutes=16)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - past)

    assert sign_in(client, "ada", PASSWORD)


def test_a_successful_sign_in_clears_earlier_failures(client, curator_account):
    for _ in range(4):
        failed_sign_in(client)
    assert sign_in(client, "ada", PASSWORD)
    client.logout()

    for _ in range(4):
        failed_sign_in(client)

    assert sign_in(client, "ada", PASSWORD)


# API bursts --------------------------------------------------------------------------------


@pytest.fixture
def ten_per_minute(settings, monkeypatch):
    # DRF copies the rates into the throttle class when it is imported: patch both.
    rates = {"anon": "10/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)


def test_a_burst_over_the_api_limit_is_refused_with_429_and_then_served_again(
    db, client, ten_per_minute, monkeypatch
):
    EventFactory(status=EventStatus.PUBLISHED)
    statuses = [client.get(EVENTS).status_code for _ in range(25)]

    assert statuses == [200] * 10 + [429] * 15
    refused = client.get(EVENTS)
    assert refused["Content-Type"] == "application/json"
    assert refused.json()["detail"].startswith("Too many requests. Try again in")
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 60

    later = time.time() + wait + 1
    monkeypatch.setattr(AnonRateThrottle, "timer", lambda self: later)
    assert client.get(EVENTS).status_code == 200


def test_the_api_limit_counts_each_client_on_its_own(db, ten_per_minute):
    greedy, patient = Client(REMOTE_ADDR="192.0.2.1"), Client(REMOTE_ADDR="192.0.2.2")
    for _ in range(12):
        greedy.get(EVENTS)

    assert greedy.get(EVENTS).status_code == 429
    assert patient.get(EVENTS).status_code == 200


# The database down or too slow -------------------------------------------------------------


@pytest.fixture
def reader(db):
    """An anonymous client that gets the error pages a browser would (no exception raised)."""
    return Client(raise_request_exception=False)


@pytest.fixture
def database_down():
    """Every query fails as psycopg2 fails while PostgreSQL restarts."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        yield


def test_the_api_answers_503_in_json_while_the_database_is_down(db, reader, database_down):
    response = reader.get(EVENTS)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "10"
    assert "database is unavailable" in response.json()["detail"]
    assert "Traceback" not in response.content.decode()


def test_an_outage_is_logged_as_one_line_per_request_not_a_traceback(
    db, reader, database_down, caplog
):
    caplog.set_level(logging.WARNING, logger="django.request")

    reader.get(EVENTS)

    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == f"Service Unavailable: {EVENTS}"
    assert record.exc_info is None


def test_pages_answer_503_in_html_while_the_database_is_down(db, reader, database_down):
    response = reader.get("/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert "The database is unavailable for a moment" in text
    assert "OperationalError" not in text and "Traceback" not in text


def test_the_app_serves_again_as_soon_as_the_database_is_back(db, reader):
    EventFactory(status=EventStatus.PUBLISHED)

    def refuse(execute, sql, params, many, context):
        raise OperationalError("could not connect to server: Connection refused")

    with connection.execute_wrapper(refuse):
        assert reader.get(EVENTS).status_code == 503

    assert reader.get(EVENTS).status_code == 200


def test_a_connection_closed_under_a_request_is_an_outage_too(db, reader):
    def closed(execute, sql, params, many, context):
        raise InterfaceError("connection already closed")

    with connection.execute_wrapper(closed):
        response = reader.get(EVENTS)

    assert response.status_code == 503


def test_a_write_cut_off_by_an_outage_asks_the_curator_to_check_it(
    db, curator_client, database_down
):
    curator_client.raise_request_exception = False

    response = curator_client.post("/admin/logout/")

    assert response.status_code == 503
    assert "check whether it was kept" in response.content.decode()


def test_a_sqlite_error_that_is_a_bug_is_a_500_not_an_outage(db, reader):
    def broken(execute, sql, params, many, context):
        try:
            raise sqlite3.OperationalError("no such table: events_event")
        except sqlite3.Error as error:
            raise OperationalError(str(error)) from error

    with connection.execute_wrapper(broken):
        response = reader.get(EVENTS)

    assert response.status_code == 500


def test_a_database_error_that_is_not_an_outage_is_a_plain_500(db, reader):
    class Deadlock(Exception):
        pgcode = "40P01"

    def deadlock(execute, sql, params, many, context):
        raise OperationalError("deadlock detected") from Deadlock()

    with connection.execute_wrapper(deadlock):
        response = reader.get(EVENTS)

    assert response.status_code == 500
    assert response.json() == {
        "detail": "Something went wrong on our side. It has been logged; please try again later."
    }


SLOW_SQL = {
    # Most of a second of work on either database, far past a limit of one millisecond.
    "sqlite": (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) "
        "SELECT count(*) FROM n"
    ),
    "postgresql": "SELECT pg_sleep(1.5)",
}


@pytest.fixture
def slow_stats(monkeypatch):
    """Make the stats endpoint run one slow statement before it answers."""
    answer = views.StatsView.get

    def slow_get(self, request, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(SLOW_SQL[connection.vendor])
        return answer(self, request, *args, **kwargs)

    monkeypatch.setattr(views.StatsView, "get", slow_get)


def test_a_public_request_past_the_time_limit_is_stopped_with_a_503(
    db, reader, settings, slow_stats
):
    settings.PUBLIC_QUERY_SECONDS = 0.001
    started = time.monotonic()

    response = reader.get(STATS)

    assert time.monotonic() - started < 1.0
    assert response.status_code == 503
    assert response.json()["detail"] == (
        "This request took longer than 0.001 seconds and was stopped. Narrow the filters, or "
        "use a streamed export (format=csv or ndjson) for large results."
    )


# Committed for real: on PostgreSQL a cancelled statement aborts the transaction around it.
@pytest.mark.django_db(transaction=True, databases="__all__")  # with a replica, it reads there
def test_the_time_limit_leaves_the_next_request_and_curators_alone(
    reader, curator_client, settings, slow_stats
):
    settings.PUBLIC_QUERY_SECONDS = 0.001
    assert reader.get(STATS).status_code == 503

    assert curator_client.get(STATS).status_code == 200  # logged in: no limit
    settings.PUBLIC_QUERY_SECONDS = 30
    assert reader.get(STATS).status_code == 200


@pytest.mark.postgres
def test_public_statements_run_under_statement_timeout_and_exports_without_it(db, client, settings):
    settings.PUBLIC_QUERY_SECONDS = 3
    EventFactory(status=EventStatus.PUBLISHED)
    seen = []

    def record(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        with context["connection"].connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            seen.append(cursor.fetchone()[0])
        return result

    with connection.execute_wrapper(record):
        client.get(EVENTS)
        during_page = set(seen)
        seen.clear()
        # TimelineJS reads its rows through Django's cursors, chunk by chunk, on any database
        # (CSV and NDJSON are one COPY on PostgreSQL, run after the same lifting).
        body = b"".join(client.get(f"{EVENTS}?format=timelinejs").streaming_content)

    assert during_page == {"3s"}
    assert len(json.loads(body)["events"]) == 1
    assert seen[-1] == "0"  # the streamed rows were read with no limit


# Secrets in logs and error pages -----------------------------------------------------------


def explode(request):
    raise RuntimeError("a bug")


urlpatterns = [path("explode/", explode), *config.urls.urlpatterns]
handler500 = "timeline.errors.server_error"


def test_a_500_shows_no_traceback_and_logs_no_password_or_secret(
    db, settings, caplog, curator_account
):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    caplog.set_level(logging.DEBUG)

    response = client.post("/explode/", {"username": "ada", "password": PASSWORD})

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "RuntimeError" not in page and "Traceback" not in page
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "Internal Server Error: /explode/" in logged
    assert PASSWORD not in logged
    assert settings.SECRET_KEY not in logged


def test_failed_sign_ins_log_no_password(client, curator_account, caplog):
    caplog.set_level(logging.DEBUG)

    for _ in range(6):
        client.post("/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD + "x"})

    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "Locking out" in logged
    assert PASSWORD not in logged
