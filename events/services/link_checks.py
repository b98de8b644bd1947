"""Whether each source's URL still answers, asked only of public addresses.

A source's URL is whatever a curator pasted, so the checker is a way into our own network
unless it refuses: it fetches http(s) only, resolves the host itself and connects to the
address it checked (a second lookup could answer otherwise), refuses loopback, private,
link-local, multicast and reserved addresses, and checks every redirect's target the same
way. It reads the status line and headers, never the body, so a huge page costs nothing;
http.client caps the headers (100 lines of 64 KB). Each connect and read has a timeout.
"""

import http.client
import ipaddress
import logging
import socket
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin

import urllib3
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import parse_url

from ..models import Source

logger = logging.getLogger(__name__)

REDIRECTS = {301, 302, 303, 307, 308}
# The page may well be there, but will not show itself to a robot: not dead.
REFUSED_TO_ROBOTS = {401, 403, 429}
CHECKS_AT_ONCE = 8  # fetches in flight; the database is written from one thread
STATUS_LENGTH = Source._meta.get_field("link_status").max_length


# What a check found, when not an HTTP status line: stored in English, as the status line
# is, and shown in the admin's language (source_link_status_shown).
REDIRECT_LOOP = gettext_noop("redirect loop")
TOO_MANY_REDIRECTS = gettext_noop("too many redirects")
MALFORMED = gettext_noop("malformed URL")
NOT_HTTP = gettext_noop("not an http(s) URL")
HOST_NOT_FOUND = gettext_noop("host not found")
NOT_PUBLIC = gettext_noop("refused: not a public address")
TIMED_OUT = gettext_noop("timed out")
TLS_ERROR = gettext_noop("TLS error")
CONNECTION_REFUSED = gettext_noop("connection refused")
CONNECTION_FAILED = gettext_noop("connection failed (%(error)s)")
FINDINGS = {
    REDIRECT_LOOP,
    TOO_MANY_REDIRECTS,
    MALFORMED,
    NOT_HTTP,
    HOST_NOT_FOUND,
    NOT_PUBLIC,
    TIMED_OUT,
    TLS_ERROR,
    CONNECTION_REFUSED,
}
FAILED_PREFIX, FAILED_SUFFIX = CONNECTION_FAILED.split("%(error)s")


@dataclass(frozen=True)
class LinkCheck:
    status: str  # 200 OK, 404 Not Found, timed out, ...
    is_dead: bool


class LinkRefused(Exception):
    """The checker may not fetch this URL (not http(s), or not a public address)."""


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Return whether the checker may connect to an IP address: public unicast only.

    The one place the policy lives; tests replace it to reach their own server on 127.0.0.1.
    """
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


def link_check(url: str) -> LinkCheck:
    """Fetch a URL as a reader's browser would, following redirects; say what was found."""
    seen = set()
    for _hop in range(settings.LINK_CHECK_MAX_REDIRECTS + 1):
        if url in seen:
            return LinkCheck(REDIRECT_LOOP, is_dead=True)
        seen.add(url)
        try:
            status, reason, location = _fetch(url)
        except LinkRefused as refusal:
            return LinkCheck(str(refusal), is_dead=True)
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as error:
            return LinkCheck(_failure(error), is_dead=True)
        if status in REDIRECTS and location:
            url = urljoin(url, location)
            continue
        text = f"{status} {reason}".strip()
        return LinkCheck(text, is_dead=status >= 400 and status not in REFUSED_TO_ROBOTS)
    return LinkCheck(TOO_MANY_REDIRECTS, is_dead=True)


def _fetch(url):
    """Return the status, reason and Location of one GET, from a vetted address only."""
    try:
        parts = parse_url(url)
    except LocationParseError:
        raise LinkRefused(MALFORMED) from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise LinkRefused(NOT_HTTP)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _public_address(parts.host, port)
    return _get(parts, port, address)


def _public_address(host, port):
    """Resolve a host; return its first address, or refuse if any address is not public."""
    try:
        found = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise LinkRefused(HOST_NOT_FOUND) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise LinkRefused(NOT_PUBLIC)
    return addresses[0]


def _get(parts, port, address):
    https = parts.scheme == "https"
    pool_class = urllib3.HTTPSConnectionPool if https else urllib3.HTTPConnectionPool
    # Connect to the address we checked; TLS still names and verifies the host.
    tls = {"server_hostname": parts.host, "assert_hostname": parts.host} if https else {}
    timeout = urllib3.Timeout(connect=settings.LINK_CHECK_TIMEOUT, read=settings.LINK_CHECK_TIMEOUT)
    pool = pool_class(str(address), port, maxsize=1, timeout=timeout, retries=False, **tls)
    default_port = port == (443 if https else 80)
    headers = {
        "Host": parts.host if default_port else f"{parts.host}:{port}",
        "User-Agent": f"CensorshipTimelineLinkChecker (+{settings.SITE_URL})",
        "Accept": "text/html,*/*;q=0.8",
    }
    try:
        response = pool.urlopen(
            "GET",
            parts.request_uri,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            return response.status, response.reason or "", response.headers.get("Location")
        finally:
            response.close()  # the body is never read
    finally:
        pool.close()


def _failure(error):
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return TIMED_OUT
    if isinstance(error, SSLError):
        return TLS_ERROR
    if isinstance(error, NewConnectionError | ConnectionRefusedError):
        return CONNECTION_REFUSED
    return CONNECTION_FAILED % {"error": type(error).__name__}


def source_link_status_shown(status: str) -> str:
    """Return a stored link status in the reader's language: the checker's own findings
    translated, an HTTP status line ("404 Not Found") as the server sent it."""
    if status in FINDINGS:
        return gettext(status)
    if status.startswith(FAILED_PREFIX) and status.endswith(FAILED_SUFFIX):
        error = status[len(FAILED_PREFIX) : len(status) - len(FAILED_SUFFIX)]
        return gettext(CONNECTION_FAILED) % {"error": error}
    return status


def source_link_record(*, source_id: int, check: LinkCheck) -> None:
    """Record what a link check found; not a curator's change, so no history or updated_at."""
    Source.objects.filter(pk=source_id).update(
        link_status=check.status[:STATUS_LENGTH],
        is_link_dead=check.is_dead,
        link_checked_at=timezone.now(),
    )


def sources_check_links(*, sources: QuerySet | None = None) -> Counter:
    """Check the URL of every source with one, least recently checked first; count the outcomes."""
    sources = Source.objects.all() if sources is None else sources
    rows = list(
        sources.exclude(url="")
        .order_by(F("link_checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", "url")
    )
    outcomes = Counter()
    with ThreadPoolExecutor(max_workers=CHECKS_AT_ONCE) as pool:
        for (source_id, _url), check in zip(rows, pool.map(_check_safely, rows), strict=True):
            source_link_record(source_id=source_id, check=check)
            outcomes["dead" if check.is_dead else "alive"] += 1
    return outcomes


def _check_safely(row):
    source_id, url = row
    try:
        return link_check(url)
    except Exception:  # one odd URL must not stop the night's run
        logger.exception("Checking the link of source %s failed", source_id)
        return LinkCheck("checker error", is_dead=False)


def sources_dead_or_unarchived() -> QuerySet:
    """Return sources whose link is dead, or that have a URL and no saved copy (dashboard)."""
    return Source.objects.filter(Q(is_link_dead=True) | (~Q(url="") & Q(archive_url="")))
