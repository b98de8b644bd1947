"""Saved copies of sources in the Internet Archive, asked of Save Page Now in a task.

Asking for a copy tells the Internet Archive which page we are looking at, so it happens
only when an editor publishes an event citing the source, or a curator asks for it.

The request and the reading of its answer are savepagenow's (`capture`): its anonymous GET,
its checks for robots.txt and the statuses it knows, and the copy's address read from
Content-Location or a memento Link. savepagenow 1.3.1 writes https://web.archive.org into
its request; `_ToEndpoint` sends that request to settings.ARCHIVE_ENDPOINT instead, so that
the tests' fake archive answers in its place. Retries are left to the task queue.
"""

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus

import requests
import savepagenow
import savepagenow.api
import savepagenow.exceptions
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
# Save Page Now is busy, or failed for a while: worth trying again later.
TRY_AGAIN = {429, 500, 502, 503, 504, 520, 523, 524}
SAVE_PAGE_NOW = "https://web.archive.org"  # where savepagenow sends its request
# The statuses savepagenow raises an exception of its own for (each a WaybackRuntimeError);
# it reads past the others.
STATUS_RAISED = {
    savepagenow.exceptions.Forbidden: HTTPStatus.FORBIDDEN,
    savepagenow.exceptions.TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
    savepagenow.exceptions.BadGateway: HTTPStatus.BAD_GATEWAY,
    savepagenow.exceptions.UnknownError: 520,  # Cloudflare's "Web server returned an unknown error"
}


class ArchiveFailed(Exception):
    """Save Page Now saved no copy; `retry` says whether trying again later may help."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


class _ToEndpoint:
    """What savepagenow calls `requests`: its GET, sent to settings.ARCHIVE_ENDPOINT."""

    @staticmethod
    def get(url, **kwargs):
        if not url.startswith(f"{SAVE_PAGE_NOW}/"):  # a savepagenow that asks elsewhere
            raise RuntimeError(f"savepagenow asked for {url}, not Save Page Now")
        return requests.get(settings.ARCHIVE_ENDPOINT + url.removeprefix(SAVE_PAGE_NOW), **kwargs)


savepagenow.api.requests = _ToEndpoint


def archiving_enabled() -> bool:
    return bool(settings.ARCHIVE_ENDPOINT)


def save_page_now(url: str) -> tuple[str, datetime]:
    """Ask Save Page Now to capture a URL; return the copy's address and when it was made.

    A copy Save Page Now made minutes ago for someone else is a copy all the same.
    """
    try:
        copy = savepagenow.capture(
            url,
            user_agent=f"CensorshipTimeline (+{settings.SITE_URL})",
            accept_cache=True,
            timeout=settings.ARCHIVE_TIMEOUT,
        )
    except requests.RequestException as error:
        message = gettext("Save Page Now did not answer (%(error)s).")
        raise ArchiveFailed(message % {"error": type(error).__name__}, retry=True) from None
    except savepagenow.exceptions.BlockedByRobots:
        message = gettext("Save Page Now refused: the site's robots.txt does not allow it.")
        raise ArchiveFailed(message, retry=False) from None
    except tuple(STATUS_RAISED) as error:
        raise _answered(STATUS_RAISED[type(error)]) from None
    except savepagenow.exceptions.WaybackRuntimeError as error:
        raise _failure(error.args[0]) from None
    if len(copy) > ARCHIVE_URL_LENGTH:
        message = gettext("The copy's address is longer than %(length)s characters.")
        raise ArchiveFailed(message % {"length": ARCHIVE_URL_LENGTH}, retry=False)
    return copy, _capture_time(copy)


def _failure(what):
    """Why savepagenow found no copy: an error Save Page Now named, or an answer without one."""
    if isinstance(what, str):
        message = gettext("Save Page Now refused: %(problem)s") % {"problem": what}
        return ArchiveFailed(message, retry=True)
    if what["status_code"] >= 400:
        return _answered(what["status_code"])
    message = gettext("Save Page Now answered %(status)s but named no copy.")
    return ArchiveFailed(message % {"status": what["status_code"]}, retry=True)


def _answered(code):
    try:
        status = f"{code} {HTTPStatus(code).phrase}"
    except ValueError:  # a status of Cloudflare's own, such as 520
        status = str(code)
    message = gettext("Save Page Now answered %(status)s.") % {"status": status}
    return ArchiveFailed(message, retry=code in TRY_AGAIN)


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
