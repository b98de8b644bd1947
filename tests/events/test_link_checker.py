"""The link checker: live and dead pages on a server of our own, every odd answer recorded,
and no request to an address that is not public, however the URL gets there."""

import ipaddress
import time
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from events.models import Source
from events.services import CURATOR_GROUP, EDITOR_GROUP, link_checks, sources_dead_or_unarchived
from events.services.link_checks import address_allowed, link_check
from tests.events.local_servers import PageHandler, serve
from tests.factories import SourceFactory, member_of

SOURCE_LIST = reverse("admin:events_source_changelist")


@pytest.fixture
def pages_allowed(monkeypatch):
    """Serve pages on 127.0.0.2, the one address the checker may reach besides public ones."""
    server = serve(PageHandler, host="127.0.0.2")
    real = link_checks.address_allowed
    allowed = ipaddress.ip_address("127.0.0.2")
    monkeypatch.setattr(link_checks, "address_allowed", lambda a: a == allowed or real(a))
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def elsewhere():
    """A second server on 127.0.0.1: the real policy must never let a request reach it."""
    server = serve(PageHandler, host="127.0.0.1")
    yield server
    server.shutdown()
    server.server_close()


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def checked(source):
    source.refresh_from_db()
    return source.link_status, source.is_link_dead


# What each page answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "is_dead"),
    [
        ("/live", "200 OK", False),
        ("/moved", "200 OK", False),
        ("/gone", "404 Not Found", True),
        ("/forbidden", "403 Forbidden", False),  # there, but not for robots
        ("/loop", "redirect loop", True),
        ("/chain/1", "too many redirects", True),
    ],
)
def test_each_page_gets_its_status(pages_allowed, path, status, is_dead):
    assert link_check(f"{pages_allowed.base}{path}") == link_checks.LinkCheck(status, is_dead)


def test_a_server_that_hangs_is_recorded_as_timed_out(pages_allowed, settings):
    settings.LINK_CHECK_TIMEOUT = 1
    started = time.monotonic()
    assert link_check(f"{pages_allowed.base}/hang") == link_checks.LinkCheck("timed out", True)
    assert time.monotonic() - started < 4


def test_a_huge_body_is_never_read(pages_allowed):
    started = time.monotonic()
    assert link_check(f"{pages_allowed.base}/huge").status == "200 OK"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://exa mple.org/", "malformed URL"),
        ("http://example.org:99999/", "malformed URL"),
        ("ftp://example.org/file", "not an http(s) URL"),
        ("javascript:alert(1)", "not an http(s) URL"),
        ("https:///no-host", "not an http(s) URL"),
    ],
)
def test_a_malformed_url_is_recorded_not_raised(url, status):
    assert link_check(url) == link_checks.LinkCheck(status, True)


# The address policy, for real -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:4700::6810:84e5", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_only_public_unicast_addresses_are_allowed(address, allowed):
    assert address_allowed(ipaddress.ip_address(address)) is allowed


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254", "[::1]", "0.0.0.0"]
)
def test_a_private_address_is_refused_before_any_request(elsewhere, host):
    port = elsewhere.server_address[1]
    found = link_check(f"http://{host}:{port}/live")
    assert found == link_checks.LinkCheck("refused: not a public address", True)
    assert elsewhere.requests == []


@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/live", "http://10.0.0.1/", "http://169.254.169.254/"]
)
def test_a_redirect_into_a_private_address_is_refused(pages_allowed, elsewhere, target):
    target = target.format(port=elsewhere.server_address[1])
    found = link_check(f"{pages_allowed.base}/to?{quote(target, safe='')}")
    assert found == link_checks.LinkCheck("refused: not a public address", True)
    assert pages_allowed.requests == [f"/to?{quote(target, safe='')}"]
    assert elsewhere.requests == []


# The command, the list and the dashboard's query ---------------------------------------------


def test_check_links_records_every_source_and_the_list_shows_the_dead(pages_allowed, db):
    live = SourceFactory(url=f"{pages_allowed.base}/live")
    dead = SourceFactory(url=f"{pages_allowed.base}/gone")
    odd = SourceFactory(url="http://exa mple.org/")
    no_url = SourceFactory(url="")

    call_command("check_links", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert checked(live) == ("200 OK", False)
    assert checked(dead) == ("404 Not Found", True)
    assert checked(odd) == ("malformed URL", True)
    assert no_url.link_checked_at is None and Source.objects.get(pk=no_url.pk).link_status == ""
    assert live.link_checked_at is not None

    curator = client_for(member_of(CURATOR_GROUP, "carla"))
    page = curator.get(SOURCE_LIST, {"link": "dead"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == sorted([dead, odd], key=_list_order)
    assert "Dead: 404 Not Found" in page.content.decode()


def _list_order(source):
    return (source.published_on is None, source.title)


def test_check_links_leaves_a_sources_history_and_updated_at_alone(pages_allowed, db):
    source = SourceFactory(url=f"{pages_allowed.base}/gone")
    updated_at, versions = source.updated_at, source.history.count()
    call_command("check_links", stdout=open("/dev/null", "w"))  # noqa: SIM115
    source.refresh_from_db()
    assert (source.updated_at, source.history.count()) == (updated_at, versions)


def test_the_dashboard_query_finds_dead_and_unarchived_sources(db):
    archived = "https://web.archive.org/web/20260101000000/https://a.example.org/"
    fine = SourceFactory(archive_url=archived)
    dead = SourceFactory(archive_url=archived, is_link_dead=True)
    unarchived = SourceFactory()
    SourceFactory(url="", archive_url="")  # nothing to archive, nothing to check
    assert fine.pk and set(sources_dead_or_unarchived()) == {dead, unarchived}


def test_an_editor_sees_a_sources_link_status_on_its_page(db):
    source = SourceFactory(link_status="410 Gone", is_link_dead=True)
    Source.objects.filter(pk=source.pk).update(link_checked_at="2026-12-01T03:30:00Z")
    editor = client_for(member_of(EDITOR_GROUP, "edith"))
    page = editor.get(reverse("admin:events_source_change", args=[source.pk]))
    assert page.status_code == 200
    assert "Dead: 410 Gone" in page.content.decode()


def test_a_curator_reads_what_the_checker_found_in_chinese(db):
    found = ["timed out", "connection failed (ProtocolError)", "host not found", "404 Not Found"]
    for status in found:
        source = SourceFactory(link_status=status, is_link_dead=True)
        Source.objects.filter(pk=source.pk).update(link_checked_at="2026-12-01T03:30:00Z")
    curator = client_for(member_of(CURATOR_GROUP, "carla"))

    listed = curator.get(f"/zh-hans{SOURCE_LIST}", {"link": "dead"}).content.decode()
    dashboard = curator.get("/zh-hans/admin/").content.decode()

    for page in (listed, dashboard):
        # Chinese text is written with full-width punctuation.
        for shown in ("超时", "连接失败（ProtocolError）", "找不到主机", "404 Not Found"):  # noqa: RUF001
            assert shown in page
        for english in ("timed out", "connection failed", "host not found"):
            assert english not in page
    # Stored as found, in English, whatever the reader's language.
    assert set(Source.objects.values_list("link_status", flat=True)) == set(found)
