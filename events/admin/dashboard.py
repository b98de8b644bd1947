"""The admin's first page: the signed-in curator's own work first, then the team's.

Each panel shows a few rows and the count of all of them, linked to the admin list that
holds them all (the same filter, so the count and the list agree).
"""

from dataclasses import dataclass, field

from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from ..choices import EventStatus
from ..models import Event, EventRevision, EventTransition, Source
from ..services import event_publication_problems
from ..services.events import PUBLISH_PERMISSION, join_problems
from ..services.link_checks import source_link_status_shown

SHOWN = 8  # rows per panel; the count and its link give the rest


@dataclass
class Panel:
    title: str
    count: int
    url: str
    rows: list = field(default_factory=list)
    empty: str = ""


def panels(request):
    """Return the dashboard's panels for this user, those their permissions allow."""
    user = request.user
    shown = []
    if user.has_perm("events.view_event"):
        shown += [
            _my_drafts(user),
            _returned_to_me(user),
            _in_review(),
            _recently_published(),
        ]
    if user.has_perm("events.view_eventrevision"):
        shown.append(_pending_edits(user))
    if user.has_perm("events.view_source"):
        shown += [_dead_links(), _not_archived()]
    return shown


def _events_list(**params):
    return f"{reverse('admin:events_event_changelist')}?{urlencode(params)}"


def _event_row(event, detail=""):
    return {
        "url": reverse("admin:events_event_change", args=[event.pk]),
        "label": f"{event.public_id} · {event.title}",
        "detail": detail,
    }


def _my_drafts(user):
    drafts = Event.objects.filter(status=EventStatus.DRAFT, created_by=user)
    return Panel(
        title=_("My drafts"),
        count=drafts.count(),
        url=_events_list(status__exact=EventStatus.DRAFT, mine="created"),
        rows=[_event_row(event) for event in drafts.order_by("-updated_at", "-id")[:SHOWN]],
        empty=_("No drafts of yours."),
    )


def returned_to(user, events):
    """The user's drafts whose last move was a return from review, with its comment and time."""
    last_move = EventTransition.objects.filter(event=OuterRef("pk")).order_by("-at", "-id")
    return (
        events.filter(status=EventStatus.DRAFT, created_by=user)
        .annotate(
            last_from=Subquery(last_move.values("from_status")[:1]),
            last_comment=Subquery(last_move.values("comment")[:1]),
            returned_at=Subquery(last_move.values("at")[:1]),
        )
        .filter(last_from=EventStatus.IN_REVIEW)
    )


def _returned_to_me(user):
    """My drafts an editor returned from review, with the comment."""
    returned = returned_to(user, Event.objects.all())
    rows = [
        _event_row(event, event.last_comment or _("(no comment)"))
        for event in returned.order_by("-returned_at")[:SHOWN]
    ]
    return Panel(
        title=_("Returned to me by an editor"),
        count=returned.count(),
        url=_events_list(mine="returned"),
        rows=rows,
        empty=_("Nothing returned to you."),
    )


def _in_review():
    waiting = Event.objects.filter(status=EventStatus.IN_REVIEW).prefetch_related("citations")
    rows = []
    for event in waiting.order_by("submitted_at", "id")[:SHOWN]:
        problems = event_publication_problems(
            event=event, citation_count=len(event.citations.all())
        )
        needs = join_problems(problems) or _("nothing: ready to publish")
        rows.append(_event_row(event, _("needs %(problems)s") % {"problems": needs}))
    return Panel(
        title=_("In review, oldest first"),
        count=waiting.count(),
        url=reverse("admin:events_eventinreview_changelist"),
        rows=rows,
        empty=_("Nothing waits for review."),
    )


def _pending_edits(user):
    """Edits of published events waiting for an editor: every one for an editor, oldest
    first; a curator's own for a curator (as the list of edits shows them)."""
    pending = EventRevision.objects.filter(status=EventRevision.Status.PENDING)
    if not user.has_perm(PUBLISH_PERMISSION):
        pending = pending.filter(author=user)
    rows = [
        {
            "url": reverse("admin:events_eventrevision_change", args=[revision.pk]),
            "label": f"{revision.event.public_id} · {revision.event.title}",
            "detail": _("by %(author)s, %(when)s")
            % {
                "author": revision.author.get_username() if revision.author else "-",
                "when": date_format(localtime(revision.created_at), "SHORT_DATETIME_FORMAT"),
            },
        }
        for revision in pending.select_related("event", "author").order_by("created_at", "id")[
            :SHOWN
        ]
    ]
    return Panel(
        title=_("Edits of published events waiting for an editor"),
        count=pending.count(),
        url=reverse("admin:events_eventrevision_changelist"),
        rows=rows,
        empty=_("No edit waits."),
    )


def _recently_published():
    published = Event.objects.filter(status=EventStatus.PUBLISHED)
    newest = published.exclude(first_published_at=None).order_by("-first_published_at", "-id")
    return Panel(
        title=_("Recently published"),
        count=published.count(),
        url=_events_list(status__exact=EventStatus.PUBLISHED),
        rows=[_event_row(event) for event in newest[:SHOWN]],
        empty=_("Nothing published yet."),
    )


def _dead_links():
    dead = Source.objects.filter(is_link_dead=True)
    rows = [
        _source_row(
            source,
            _("%(status)s, checked %(when)s")
            % {
                "status": source_link_status_shown(source.link_status),
                "when": date_format(localtime(source.link_checked_at), "SHORT_DATETIME_FORMAT"),
            },
        )
        for source in dead.order_by("-link_checked_at", "id")[:SHOWN]
    ]
    return Panel(
        title=_("Sources whose link is dead"),
        count=dead.count(),
        url=_sources_list(link="dead"),
        rows=rows,
        empty=_("No dead links found."),
    )


def _not_archived():
    bare = Source.objects.exclude(url="").filter(archive_url="")
    rows = [
        _source_row(source, source.archive_error or _("never archived"))
        for source in bare.order_by("-archive_error", "-created_at", "id")[:SHOWN]
    ]
    return Panel(
        title=_("Sources with no archived copy"),
        count=bare.count(),
        url=_sources_list(archived="no"),
        rows=rows,
        empty=_("Every source with a link has an archived copy."),
    )


def _sources_list(**params):
    return f"{reverse('admin:events_source_changelist')}?{urlencode(params)}"


def _source_row(source, detail):
    return {
        "url": reverse("admin:events_source_change", args=[source.pk]),
        "label": source.title or source.url,
        "detail": detail,
    }


class MineFilter(admin.SimpleListFilter):
    """The events list's filter behind "My drafts" and "Returned to me"."""

    title = _("mine")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("created", _("Created by me")), ("returned", _("Returned to me by an editor"))]

    def queryset(self, request, queryset):
        match self.value():
            case "created":
                return queryset.filter(created_by=request.user)
            case "returned":
                return returned_to(request.user, queryset)
        return queryset
