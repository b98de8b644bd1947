"""Saved copies of sources in the Internet Archive, asked of Save Page Now in a task.

Asking for a copy tells the Internet Archive which page we are looking at, so it happens
only when an editor publishes an event citing the source, or a curator asks for it.

The client follows Save Page Now's protocol as the savepagenow package does (GET
<endpoint>/save/<url>; the copy is named by Content-Location or a memento Link) but
takes its endpoint from settings.ARCHIVE_ENDPOINT, which neither savepagenow 1.3.1 nor
waybackpy 3.0.6 allows (both write https://web.archive.org into the request), and
leaves retries to the task queue.
"""

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urljoin

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from ..choices import EventStatus
from ..models import Source

logger = logging.getLogger(__name__)

ARCHIVE_URL_LENGTH = Source._meta.get_field("archive_url").max_length
ERROR_LENGTH = Source._meta.get_field("archive_error").max_length
CAPTURE_TIME = re.compile(r"/web/(\d{14})")
MEMENTO_LINK = re.compile(r"<([^>]+)>\s*;[^<]*?\brel=\"?([^\";]*)")
# Save Page Now is busy, or failed for a while: worth trying again later.
TRY_AGAIN = {429, 500, 502, 503, 504, 520, 523, 524}


class ArchiveFailed(Exception):
    """Save Page Now saved no copy; `retry` says whether trying again later may help."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


def archiving_enabled() -> bool:
    return bool(settings.ARCHIVE_ENDPOINT)


def save_page_now(url: str) -> tuple[str, datetime]:
    """Ask Save Page Now to capture a URL; return the copy's address and when it was made."""
    endpoint = settings.ARCHIVE_ENDPOINT
    try:
        response = urllib3.request(
            "GET",
            f"{endpoint}/save/{url}",
            headers={"User-Agent": f"CensorshipTimeline (+{settings.SITE_URL})"},
            timeout=urllib3.Timeout(connect=10, read=settings.ARCHIVE_TIMEOUT),
            retries=False,
            redirect=False,
            preload_content=False,
        )
    except urllib3.exceptions.HTTPError as error:
        message = gettext("Save Page Now did not answer (%(error)s).")
        raise ArchiveFailed(message % {"error": type(error).__name__}, retry=True) from None
    try:
        return _copy_named(response, endpoint)
    finally:
        response.close()


def _copy_named(response, endpoint):
    problem = response.headers.get("X-Archive-Wayback-Runtime-Error")
    if problem:
        blocked = "robots" in problem.lower()
        message = gettext("Save Page Now refused: %(problem)s") % {"problem": problem}
        raise ArchiveFailed(message, retry=not blocked)
    if response.status >= 400:
        message = gettext("Save Page Now answered %(status)s %(reason)s.")
        message %= {"status": response.status, "reason": response.reason or ""}
        raise ArchiveFailed(message.strip(), retry=response.status in TRY_AGAIN)
    copy = _copy_address(response.headers)
    if not copy:
        message = gettext("Save Page Now answered %(status)s but named no copy.")
        raise ArchiveFailed(message % {"status": response.status}, retry=True)
    copy = urljoin(f"{endpoint}/", copy)
    if len(copy) > ARCHIVE_URL_LENGTH:
        message = gettext("The copy's address is longer than %(length)s characters.")
        raise ArchiveFailed(message % {"length": ARCHIVE_URL_LENGTH}, retry=False)
    return copy, _capture_time(copy)


def _copy_address(headers):
    if headers.get("Content-Location"):
        return headers["Content-Location"]
    for address, rel in MEMENTO_LINK.findall(headers.get("Link", "")):
        if "memento" in rel.split():
            return address
    return headers.get("Location")  # a redirect to the copy


def _capture_time(copy):
    found = CAPTURE_TIME.search(copy)
    if not found:
        return timezone.now()
    return datetime.strptime(found[1], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def source_archive(*, source_id: int) -> None:
    """Ask for a copy of a source now; record it, or why not. Raise ArchiveFailed to retry."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None or not source.url:
        return
    try:
        if not archiving_enabled():
            raise ArchiveFailed(gettext("Archiving is off (ARCHIVE_ENDPOINT)."), retry=False)
        if not source.url.lower().startswith(("http://", "https://")):
            raise ArchiveFailed(gettext("Only web pages (http, https) are archived."), retry=False)
        copy, archived_at = save_page_now(source.url)
    except ArchiveFailed as failure:
        source_archive_failed(source_ids=[source_id], reason=str(failure))
        if failure.retry:
            raise
        return
    _record_copy(source, copy, archived_at)


def source_archive_failed(*, source_ids: Iterable[int], reason: str) -> None:
    """Record why sources have no new copy, for the admin to show; no history, no updated_at."""
    Source.objects.filter(pk__in=source_ids).update(archive_error=reason[:ERROR_LENGTH])


@transaction.atomic
def _record_copy(source, copy, archived_at):
    # Imported here: the publication workflow (services.events) imports this module.
    from .events import events_referencing_changed

    source.archive_url, source.archived_at, source.archive_error = copy, archived_at, ""
    source._change_reason = "Saved by Save Page Now"
    source.save(update_fields=["archive_url", "archived_at", "archive_error", "updated_at"])
    # The copy is public: the events citing the source show it from now on.
    events_referencing_changed(events=Source.objects.filter(pk=source.pk).referencing_events())


def sources_archive_later(*, sources: QuerySet) -> int:
    """Queue a request for a copy of each source with a URL, once this transaction commits.

    Return how many were queued.
    """
    source_ids = list(sources.exclude(url="").values_list("pk", flat=True).distinct())
    if source_ids:
        transaction.on_commit(lambda: _queue(source_ids), robust=True)
    return len(source_ids)


def event_sources_archive_later(*, event) -> int:
    """Queue copies of a just-published event's sources that have none yet."""
    if not archiving_enabled():
        return 0
    return sources_archive_later(
        sources=Source.objects.filter(citations__event=event, archive_url="")
    )


def cited_sources_archive_later(*, event, source_ids) -> int:
    """Queue copies of sources newly cited by a published event that have none yet: its
    sources were archived when it was published, and these joined it since."""
    if not archiving_enabled() or event.status != EventStatus.PUBLISHED:
        return 0
    cited = Source.objects.filter(pk__in=source_ids, citations__event=event, archive_url="")
    return sources_archive_later(sources=cited)


def _queue(source_ids):
    from .. import tasks  # the tasks call back into this module

    for source_id in source_ids:
        try:
            tasks.enqueue(
                tasks.archive_source, source_id, retry_seconds=settings.ARCHIVE_RETRY_SECONDS
            )
        except tasks.QueueUnavailable as error:
            logger.warning("Could not queue archiving source %s: %s", source_id, error)
            source_archive_failed(source_ids=[source_id], reason=str(error))
