"""Rate limits that hold as served: the API's limit per reader and the sign-in lockout.

`make serve` runs gunicorn with two worker processes, each replaced every max_requests, so a
count kept in a worker's memory differs per worker and resets with it. The end-to-end tests
start gunicorn as bin/serve does (DEBUG off, 2 workers, here recycled every few requests) and
count from one address; the Redis ones need Redis (REDIS_URL, else 127.0.0.1:6379; skipped
without it unless REDIS_TESTS_REQUIRED=1). Who a request is counted as: TRUSTED_PROXIES.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from http.cookiejar import CookieJar
from ipaddress import ip_network
from pathlib import Path
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from events.admin.login import client_address
from events.services import CURATOR_GROUP
from tests.admin_forms import sign_in
from tests.factories import member_of
from tests.test_deployment import clean_environment, production, settings_under
from timeline.throttling import AnonRateThrottle

EVENTS = "/api/v1/events/"
LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery"  # UserFactory's, so member_of's
# The served app's limit: an hour's window, so that a burst on a slow machine stays inside it.
RATE = 20
MAX_REQUESTS = 3  # each worker is replaced after this many requests
FILE_CACHE = "django.core.cache.backends.filebased.FileBasedCache"
DIRECT = "203.0.113.5"  # a client that reaches gunicorn without the proxy


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def behind_one_proxy(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


@pytest.fixture
def curie(db):
    """A member of the Curator group, who signs in at the admin."""
    return member_of(CURATOR_GROUP, "curie")


def failed_sign_in(client):
    return client.post(LOGIN, {"username": "curie", "password": "wrong password"})


# Settings ----------------------------------------------------------------------------------


def test_served_without_redis_the_counts_are_files_under_the_project_and_pages_stay_in_memory():
    found = settings_under(["CACHES", "REST_FRAMEWORK"], **production())

    assert found["CACHES"]["throttle"]["BACKEND"] == FILE_CACHE
    assert found["CACHES"]["throttle"]["LOCATION"] == str(settings.BASE_DIR / "var" / "throttle")
    assert found["CACHES"]["default"]["BACKEND"] == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    assert found["REST_FRAMEWORK"]["DEFAULT_THROTTLE_CLASSES"] == [
        "timeline.throttling.AnonRateThrottle"
    ]


def test_with_redis_the_counts_live_in_redis_whatever_the_folder():
    caches_found = settings_under(
        ["CACHES"],
        **production(REDIS_URL="redis://127.0.0.1:6379/3", THROTTLE_CACHE_DIR="/srv/throttle"),
    )["CACHES"]

    assert caches_found["throttle"] == caches_found["default"]
    assert caches_found["throttle"]["LOCATION"] == "redis://127.0.0.1:6379/3"


def test_trusted_proxies_are_the_loopback_unless_listed():
    assert settings_under(["TRUSTED_PROXIES"])["TRUSTED_PROXIES"] == ["127.0.0.1/32", "::1/128"]
    listed = settings_under(["TRUSTED_PROXIES"], TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.7")

    assert listed["TRUSTED_PROXIES"] == ["10.0.0.0/8", "192.0.2.7/32"]


def test_a_trusted_proxy_that_is_not_an_address_stops_the_start_with_its_name():
    found = settings_under([], TRUSTED_PROXIES="10.0.0.0/8, proxy.internal")

    assert found["error"] == (
        "TRUSTED_PROXIES must list IP addresses or networks such as 10.0.0.0/8, "
        "not '10.0.0.0/8, proxy.internal'."
    )


# Who a request is counted as ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "counted_as"),
    [
        (DIRECT, "198.51.100.7", 1, DIRECT),
        ("127.0.0.1", "198.51.100.7", 1, "198.51.100.7"),
        ("::1", "198.51.100.7", 1, "198.51.100.7"),
        ("::ffff:127.0.0.1", "198.51.100.7", 1, "198.51.100.7"),
        ("127.0.0.1", "192.0.2.66, 198.51.100.7", 1, "198.51.100.7"),
        ("127.0.0.1", "192.0.2.66, 198.51.100.7, 10.0.0.2", 2, "198.51.100.7"),
        ("127.0.0.1", "198.51.100.7", 0, "127.0.0.1"),
        ("127.0.0.1", "", 1, "127.0.0.1"),
        ("127.0.0.1", "not-an-address", 1, "127.0.0.1"),
        ("", "198.51.100.7", 1, "198.51.100.7"),
    ],
    ids=[
        "a-direct-client-names-no-one",
        "the-proxy-on-this-host-names-its-client",
        "the-proxy-over-ipv6",
        "the-proxy-as-an-ipv4-mapped-address",
        "what-the-client-wrote-before-the-proxy-is-not-believed",
        "two-proxies-the-second-entry-from-the-right",
        "no-proxies-configured",
        "the-proxy-itself-with-no-header",
        "a-header-that-is-no-address",
        "a-unix-socket-as-gunicorn-trusts-it",
    ],
)
def test_client_address(rf, settings, peer, forwarded, proxies, counted_as):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    request = rf.get(EVENTS, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == counted_as
    assert AnonRateThrottle().get_ident(request) == counted_as


def test_a_direct_client_forging_x_forwarded_for_is_still_locked_out(curie, behind_one_proxy):
    for n in range(5):
        failed_sign_in(Client(REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"))

    forger = Client(REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert not sign_in(forger, "curie", PASSWORD)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {DIRECT}


def test_a_direct_client_cannot_lock_out_the_address_it_names(curie, behind_one_proxy):
    victim = "198.51.100.7"
    for _ in range(5):
        failed_sign_in(Client(REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=victim))

    assert sign_in(Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=victim), "curie", PASSWORD)


def test_through_a_trusted_proxy_each_forwarded_client_is_locked_out_alone(
    curie, behind_one_proxy, settings
):
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8")
    for _ in range(5):
        failed_sign_in(attacker)

    assert not sign_in(attacker, "curie", PASSWORD)
    assert sign_in(colleague, "curie", PASSWORD)


@pytest.fixture
def ten_per_minute(monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "10/minute"})


def test_a_reader_forging_x_forwarded_for_is_still_limited(db, behind_one_proxy, ten_per_minute):
    statuses = [
        Client(REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").get(EVENTS).status_code
        for n in range(12)
    ]

    assert statuses == [200] * 10 + [429] * 2


def test_through_the_proxy_each_reader_is_limited_alone_in_the_throttle_cache(
    db, behind_one_proxy, ten_per_minute
):
    greedy = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    patient = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8")
    for _ in range(10):
        greedy.get(EVENTS)

    assert greedy.get(EVENTS).status_code == 429
    assert patient.get(EVENTS).status_code == 200
    counts = caches["throttle"].get("throttle_anon_198.51.100.7")
    assert len(counts) == 10


# Served by gunicorn --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served_database(tmp_path_factory):
    """A migrated SQLite file for the served app, with the curator persona in it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('served') / 'db.sqlite3'}"
    env = clean_environment(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings")
    run = {"cwd": settings.BASE_DIR, "env": env, "check": True, "capture_output": True}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"], **run)
    persona = (
        "import django; django.setup(); "
        "from tests.factories import member_of; from events.services import CURATOR_GROUP; "
        "member_of(CURATOR_GROUP, 'curie')"
    )
    subprocess.run([sys.executable, "-c", persona], **run)
    return url


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(log_dir, **variables):
    """Serve the app as bin/serve does, on a free port, its workers recycled every few requests.

    Plain http on the loopback, static files found per request (no collectstatic into the
    checkout): neither is what these tests are about.
    """
    port = free_port()
    log = Path(log_dir) / f"gunicorn-{port}.log"
    env = clean_environment(
        **production(
            HTTPS="false",
            ALLOWED_HOSTS="127.0.0.1",
            STATIC_MANIFEST="false",
            BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="2",
            API_ANON_RATE=f"{RATE}/hour",
            NUM_PROXIES="0",
            TRUSTED_PROXIES="",
        )
        | variables
    )
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("--config", "config/gunicorn.conf.py"),
        *("--max-requests", str(MAX_REQUESTS), "--max-requests-jitter", "0"),
        "config.wsgi",
    ]
    with log.open("wb") as output:
        server = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(server, port, log)
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}", log=log)
    finally:
        server.send_signal(signal.SIGINT)  # quick shutdown: nothing is in flight
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_for_port(server, port, log):
    """Wait until gunicorn listens; a request then waits in the backlog for a worker."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn stopped at start:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn did not listen within 30 s:\n{log.read_text()}")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browser():
    """An HTTP client with cookies that never follows redirects nor any proxy setting."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPCookieProcessor(CookieJar()),
        NoRedirects,
    )


def fetch(opener, url, data=None, **headers):
    """Return the status, headers and body of a request, whatever the status."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(urllib.request.Request(url, body, headers), timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def burst(urls):
    """GET each URL in turn, each on a new connection; return each status and Retry-After."""
    opener = browser()
    answers = [fetch(opener, url)[:2] for url in urls]
    return [(status, headers.get("Retry-After")) for status, headers in answers]


def assert_limited_after_the_rate(answers):
    assert [status for status, _ in answers[:RATE]] == [200] * RATE
    refused = answers[RATE:]
    assert [status for status, _ in refused] == [429] * len(refused)
    assert all(1 <= int(wait) <= 3600 for _, wait in refused), refused


def booted_workers(log):
    return log.read_text().count("Booting worker with pid")


def test_served_from_files_the_api_limit_holds_across_recycled_workers_and_a_restart(
    tmp_path, served_database
):
    counts = tmp_path / "throttle"
    variables = {"DATABASE_URL": served_database, "THROTTLE_CACHE_DIR": str(counts)}
    with gunicorn(tmp_path, **variables) as server:
        answers = burst([server.url + EVENTS] * (RATE + 6))
        booted = booted_workers(server.log)
    with gunicorn(tmp_path, **variables) as restarted:
        after_restart = burst([restarted.url + EVENTS])

    assert_limited_after_the_rate(answers)
    assert booted >= 2 + 6, "the workers were not recycled during the burst"
    assert after_restart[0][0] == 429
    assert list(counts.glob("*.djcache"))


def test_served_behind_a_proxy_elsewhere_a_direct_reader_cannot_choose_its_address(
    tmp_path, served_database
):
    variables = {
        "DATABASE_URL": served_database,
        "THROTTLE_CACHE_DIR": str(tmp_path / "throttle"),
        "NUM_PROXIES": "1",
        "TRUSTED_PROXIES": "192.0.2.1",  # not the loopback this test connects from
    }
    with gunicorn(tmp_path, **variables) as server:
        opener = browser()
        statuses = [
            fetch(opener, server.url + EVENTS, **{"X-Forwarded-For": f"198.51.100.{n}"})[0]
            for n in range(RATE + 2)
        ]

    assert statuses == [200] * RATE + [429] * 2


def test_served_sign_in_lockout_holds_across_recycled_workers(tmp_path, served_database):
    variables = {"DATABASE_URL": served_database, "THROTTLE_CACHE_DIR": str(tmp_path / "t")}
    with gunicorn(tmp_path, **variables) as server:
        opener = browser()

        def sign_in_as_curie(password):
            form = fetch(opener, server.url + LOGIN)[2].decode()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
            data = {"username": "curie", "password": password, "csrfmiddlewaretoken": token}
            return fetch(opener, server.url + LOGIN, data)[0]

        failures = [sign_in_as_curie("wrong password") for _ in range(5)]
        refused = sign_in_as_curie(PASSWORD)
        booted = booted_workers(server.log)

    assert failures == [200] * 4 + [429]
    assert refused == 429
    assert booted >= 2 + 2, "the workers were not recycled between sign-ins"


@pytest.fixture
def redis_url():
    """The local Redis, for served apps that keep their keys under a prefix of their own."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        message = f"needs Redis at {url}: set REDIS_URL"
        if os.environ.get("REDIS_TESTS_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"ratelimit-test-{uuid.uuid4().hex}"
    yield SimpleNamespace(url=url, prefix=prefix, client=client)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def test_served_with_redis_the_api_limit_holds_across_hosts_and_recycled_workers(
    tmp_path, served_database, redis_url
):
    shared = {
        "DATABASE_URL": served_database,
        "REDIS_URL": redis_url.url,
        "CACHE_KEY_PREFIX": redis_url.prefix,
    }
    # Each host's own folder, which Redis makes unused.
    first = gunicorn(tmp_path, THROTTLE_CACHE_DIR=str(tmp_path / "first"), **shared)
    second = gunicorn(tmp_path, THROTTLE_CACHE_DIR=str(tmp_path / "second"), **shared)
    with first as one, second as other:
        answers = burst([host.url + EVENTS for host in (one, other)] * ((RATE + 6) // 2))
        booted = booted_workers(one.log) + booted_workers(other.log)

    assert_limited_after_the_rate(answers)
    assert booted >= 4 + 6, "the workers were not recycled during the burst"
    assert list(redis_url.client.scan_iter(f"{redis_url.prefix}:*throttle_anon_127.0.0.1"))
    assert not (tmp_path / "first").exists() and not (tmp_path / "second").exists()
