"""Events in the admin: recording, the review workflow, stale-edit refusal, duplicate warnings."""

import copy
import datetime
import threading

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Max, Min
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .. import services
from ..choices import DatePrecision, EventStatus
from ..dates import InvalidDate, describe, parse_date
from ..models import Citation, Event, EventActor, EventCount, EventInReview, EventRelation
from ..resources import EventConfirmImportForm, EventImportForm, EventResource
from .changelist import DeclaredFiltersAdmin, EventListAdmin, InvalidFilter, PresentCountryFilter
from .dashboard import MineFilter
from .importing import ImportingAdmin
from .refusal import refusal
from .relations import KeysOnlyAdmin, read_pk
from .review import changes_since_published

# Set only by the workflow services; an edit (or a restored old version) never changes them.
WORKFLOW_FIELDS = (
    "status",
    "first_published_at",
    "submitted_at",
    "retracted_at",
    "retraction_reason",
    "public_id",
    "created_by",
    "created_at",
)
MOVES = {
    # name: (label, service, statuses it starts from, needs the publish permission)
    "submit": (_("Submit for review"), services.event_submit, {EventStatus.DRAFT}, False),
    "publish": (
        _("Publish"),
        services.event_publish,
        {EventStatus.DRAFT, EventStatus.IN_REVIEW},
        True,
    ),
    "return": (
        _("Return to draft"),
        services.event_return_to_draft,
        {EventStatus.IN_REVIEW, EventStatus.PUBLISHED},
        True,
    ),
    "retract": (_("Retract"), services.event_retract, {EventStatus.PUBLISHED}, True),
}


_viewer = threading.local()  # who is looking at the change form, for workflow()


class YearOverlapFilter(admin.SimpleListFilter):
    """Filter by year the way researchers read dates: events that may have touched that year."""

    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        span = Event.objects.aggregate(first=Min("date_earliest"), last=Max("date_latest"))
        if span["first"] is None:
            return []
        last_year = max(span["last"].year if span["last"] else 0, datetime.date.today().year)
        years = range(last_year, span["first"].year - 1, -1)
        return [(str(year), str(year)) for year in years]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            year = int(self.value())
            start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        # Not a number; a year before 1 or after 9999; one too long for a C long (OverflowError).
        except (ValueError, OverflowError):
            raise InvalidFilter(
                gettext(
                    "The year filter takes a year from 1 to 9999, such as 2014: "
                    "“%(value)s” is not one."
                )
                % {"value": Truncator(self.value()).chars(40)}
            ) from None
        return queryset.overlapping(start, end)


class EventActorInline(KeysOnlyAdmin, admin.TabularInline):
    model = EventActor
    autocomplete_fields = ("actor",)
    extra = 1

    def get_queryset(self, request):
        # Each row is headed by str(row), which names the actor: fetch them with the rows.
        return super().get_queryset(request).select_related("actor")


class CitationInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.status != EventStatus.PUBLISHED:
            return
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        # The event and its citations are saved together: count the citations in the form.
        problems = services.event_publication_problems(
            event=self.instance, citation_count=len(kept)
        )
        if problems:
            raise ValidationError(
                gettext("A published event needs %(problems)s. Return it to draft first.")
                % {"problems": services.events.join_problems(problems)}
            )


class CitationInline(KeysOnlyAdmin, admin.TabularInline):
    model = Citation
    formset = CitationInlineFormSet
    autocomplete_fields = ("source",)
    fields = ("source", "quote", "locator", "note")
    # Narrow enough that the inline, with its source picker, fits a 1280 px screen.
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 34})}
    }
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")


class EventRelationInline(KeysOnlyAdmin, admin.TabularInline):
    model = EventRelation
    fk_name = "from_event"
    autocomplete_fields = ("to_event",)
    verbose_name = _("related event")
    verbose_name_plural = _("related events (this event … the other)")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_event", "to_event")


class EventCountInline(admin.TabularInline):
    model = EventCount
    fields = ("qualifier", "quantity", "unit", "note")
    extra = 0


class EventAdminForm(forms.ModelForm):
    # The version the curator started from; a save is refused if someone saved since.
    read_version = forms.IntegerField(
        label=_("Read version"), widget=forms.HiddenInput, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # From the database, not the instance: a restored old version starts from now.
            current = Event.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            self.fields["read_version"].initial = current.first()

    def clean(self):
        data = super().clean()
        if not self.instance.pk:
            return data
        current = Event.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
        current = current.first()
        if current is None:  # an old version of a deleted event, posted to its history page
            raise ValidationError(deleted_message(self.instance))
        read = data.get("read_version")
        if self.instance.version is not None and read is not None and read != current:
            raise ValidationError(
                services.events.event_conflict_message(event=self.instance, read_version=read)
            )
        self._check_still_publishable(data)
        self._check_no_edit_waits()
        return data

    def _check_no_edit_waits(self):
        """A curator's second edit of a published event would start from a version the edit
        already waiting does not know: it is refused, their text kept in the form."""
        if not getattr(self, "moderated", False):
            return
        pending = services.revision_pending(event=self.instance)
        if pending is not None:
            raise ValidationError(
                services.revisions.revision_pending_message(
                    pending, getattr(self, "editing_user", None)
                )
            )

    def _check_still_publishable(self, data):
        """A published event stays publishable: an edit, or an old version restored over it
        (which has no inlines to check), may not take away its type or its country."""
        pk = self.instance.pk
        if not Event.objects.filter(pk=pk, status=EventStatus.PUBLISHED).exists():
            return
        candidate = copy.copy(self.instance)
        for name, value in data.items():
            if name in {"event_type", "country", "is_global"}:
                setattr(candidate, name, value)
        cited = Citation.objects.filter(event_id=pk).count()  # the inlines check their own
        problems = services.event_publication_problems(
            event=candidate, citation_count=max(cited, 1)
        )
        if problems:
            raise ValidationError(
                gettext("A published event needs %(problems)s. Return it to draft first.")
                % {"problems": services.events.join_problems(problems)}
            )


@admin.register(Event)
class EventAdmin(KeysOnlyAdmin, EventListAdmin, ImportingAdmin, SimpleHistoryAdmin):
    form = EventAdminForm
    resource_classes = [EventResource]
    import_form_class = EventImportForm
    confirm_form_class = EventConfirmImportForm
    list_display = (
        "public_id",
        "date",
        "title",
        "event_type",
        "country_name",
        "status",
        "verification",
    )
    list_display_links = ("public_id", "title")
    list_filter = (
        "status",
        "event_type__category",
        "event_type",
        ("country", PresentCountryFilter),
        "platforms",
        "verification",
        YearOverlapFilter,
        MineFilter,
    )
    search_fields = (
        "public_id",
        "title",
        "summary",
        "actors__name",
        "actors__aliases__name",
        "platforms__name",
        "platforms__aliases__name",
    )
    list_select_related = ("event_type__category",)
    ordering = ("-date_earliest", "-id")
    autocomplete_fields = ("event_type", "platforms", "tags")
    readonly_fields = (
        "public_id",
        "date_bounds",
        "workflow",
        "first_published_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    inlines = (EventActorInline, EventCountInline, CitationInline, EventRelationInline)
    fieldsets = (
        (None, {"fields": ("public_id", "title", "summary", "event_type", "tags", "read_version")}),
        (
            _("In the source's language"),
            {"fields": ("title_original", "summary_original", "original_language")},
        ),
        (_("When"), {"fields": ("date_text", "date_bounds")}),
        (_("Where"), {"fields": ("country", "is_global", "locality", ("latitude", "longitude"))}),
        (_("What it hit"), {"fields": ("platforms",)}),
        (_("Status"), {"fields": ("workflow", "verification", "internal_notes")}),
        (
            pgettext_lazy("part of a form", "Record"),
            {
                "classes": ("collapse",),
                "fields": (
                    "first_published_at",
                    ("created_at", "created_by"),
                    ("updated_at", "updated_by"),
                ),
            },
        ),
    )
    show_full_result_count = False
    actions = ("submit_selected", "publish_selected", "return_selected", "retract_selected")

    def get_queryset(self, request):
        return super().get_queryset(request).for_admin_list()

    class Media:
        css = {"all": ("events/event_admin.css",)}
        js = ("events/event_form.js",)

    def get_urls(self):
        move = self.admin_site.admin_view(self.move_view)
        read_date = self.admin_site.admin_view(self.read_date_view)
        return [
            path("<int:pk>/workflow/<str:move>/", move, name="events_event_move"),
            path("read-date/", read_date, name="events_event_read_date"),
            *super().get_urls(),
        ]

    def has_delete_permission(self, request, obj=None):
        # An event that has been public is cited by someone: retract it, never delete it.
        if obj is not None and obj.first_published_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete published events too
        return actions

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        status = getattr(form, "cleaned_data", {}).get("status") if form is not None else None
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "status_after_import": status,
            "user": request.user,
        }

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["status"] = import_form.cleaned_data["status"]
        return initial

    @admin.display(description=_("date"), ordering="date_earliest")
    def date(self, event):
        """As a reader says it, over the EDTF the curator typed: "March 2014" over 2014-03."""
        return format_html(
            '{}<br><code class="edtf">{}</code>', _date_in_words(event), event.date_text
        )

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, event):
        # Not the field itself: the admin would rebuild the list of 250 countries per row.
        return event.country.name or None

    @admin.display(description=_("read as"))
    def date_bounds(self, event):
        if event.date_earliest is None:
            return "-"
        return _read_as(
            _date_in_words(event),
            event.date_earliest,
            event.date_latest,
            event.get_date_precision_display(),
            approximate=event.date_is_approximate,
            uncertain=event.date_is_uncertain,
        )

    def read_date_view(self, request):
        """Answer how the server reads a date as the curator types it, or why it cannot."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        try:
            bounds = parse_date(request.GET.get("text", ""))
            words = describe(bounds.text)
        except InvalidDate as error:
            return JsonResponse({"ok": False, "error": str(error)})
        read_as = _read_as(
            words,
            bounds.earliest,
            bounds.latest,
            DatePrecision(bounds.precision).label,
            approximate=bounds.is_approximate,
            uncertain=bounds.is_uncertain,
        )
        return JsonResponse(
            {
                "ok": True,
                "read_as": read_as,
                "words": words,
                "earliest": bounds.earliest.isoformat(),
                "latest": bounds.latest.isoformat() if bounds.latest else None,
            }
        )

    def get_view_on_site_url(self, obj=None):
        # Only a published event has a public page; a draft's preview is in the status line.
        if obj is None or obj.status != EventStatus.PUBLISHED:
            return None
        return reverse("timeline:event-page", args=[obj.public_id])

    def changelist_view(self, request, extra_context=None):
        # The side menu repeats the home page and would take a quarter of a 1280 px screen:
        # without it, the list and its filters fit with status, verification and country.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The status line offers only the moves this person may make (see workflow()).
        _viewer.can_publish = request.user.has_perm("events.publish_event")
        if object_id and request.method == "GET":
            self._tell_of_a_waiting_edit(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _tell_of_a_waiting_edit(self, request, object_id):
        pending = services.revision_pending(event=read_pk(Event, object_id))
        if pending is None:
            return
        url = reverse("admin:events_eventrevision_change", args=[pending.pk])
        text = gettext("An edit of this event by %(author)s waits for an editor.") % {
            "author": pending.author.get_username() if pending.author else "-"
        }
        link = format_html('{} <a href="{}">{}</a>', text, url, gettext("See the edit"))
        self.message_user(request, link, messages.WARNING)

    @admin.display(description=_("status"))
    def workflow(self, event):
        if event.pk is None:
            return gettext("Draft (new events start as drafts)")
        can_publish = getattr(_viewer, "can_publish", False)
        links = format_html_join(
            " ",
            '<a class="button" href="{}">{}</a>',
            (
                (reverse("admin:events_event_move", args=[event.pk, name]), label)
                for name, (label, _service, starts, for_editors) in MOVES.items()
                if event.status in starts and (can_publish or not for_editors)
            ),
        )
        missing = services.event_publication_problems(event=event)
        needs = ""
        if missing:
            needs = gettext("To publish it needs %(problems)s.") % {
                "problems": services.events.join_problems(missing)
            }
        status = format_html(
            gettext("<strong>{status}</strong>."), status=event.get_status_display()
        )
        if event.status in (EventStatus.DRAFT, EventStatus.IN_REVIEW):
            page = reverse("timeline:event-preview", args=[event.public_id])
            seen = format_html('<a href="{}">{}</a>', page, gettext("Preview the public page"))
        else:  # a published event's page: Django's "View on site" (get_view_on_site_url)
            seen = ""
        return format_html("{} {} {} {}", status, needs, seen, links)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "date_text":
            # event_form.js shows how the server reads the date as the curator types it.
            read_url = reverse("admin:events_event_read_date")
            field.widget.attrs.update(
                {"placeholder": "2014-03", "size": 30, "data-read-date-url": read_url}
            )
        elif db_field.name == "country":
            # event_form.js adds a box that narrows the 250 countries as the curator types.
            field.widget.attrs.update(
                {
                    "data-search-label": _("Type to find a country"),
                    "data-search-empty": _("No country matches."),
                }
            )
        elif db_field.name == "title":
            field.widget.attrs.update(size=80)
        return field

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.moderated = _moderated(request, obj)  # a class of this request's own
        form.editing_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        if change:
            current = Event.objects.get(pk=obj.pk)
            for name in WORKFLOW_FIELDS:
                setattr(obj, name, getattr(current, name))
            obj.version = form.cleaned_data.get("read_version") or current.version
            if _moderated(request, current):
                self._hold_for_an_editor(request, obj, form, current)
                return
        services.event_save(event=obj, user=request.user)

    def _hold_for_an_editor(self, request, event, form, current):
        """Keep a curator's edit of a published event as a proposal, touching nothing public.

        The inlines' rows join it in save_related; a restored old version (no inlines) keeps
        the rows the event has."""
        form.save_m2m = lambda: None  # simple-history's restore sets the m2m itself
        published = services.revision_proposal_of(current)
        request.held_edit = {
            "event": current,
            "base_version": event.version,
            "proposal": services.revision_proposal(
                event=event,
                platform_ids=_ids(form.cleaned_data.get("platforms"), published["platforms"]),
                tag_ids=_ids(form.cleaned_data.get("tags"), published["tags"]),
                rows=published["rows"],
            ),
        }

    def save_related(self, request, form, formsets, change):
        held = getattr(request, "held_edit", None)
        if held is None:
            return super().save_related(request, form, formsets, change)
        inlines = {model: name for name, (model, _l, _f) in services.revisions.INLINES.items()}
        for formset in formsets:
            rows = [
                {**row.cleaned_data, "id": row.instance.pk}
                for row in formset.forms
                if row.cleaned_data and not row.cleaned_data.get("DELETE")
            ]
            inline = inlines[formset.model]
            held["proposal"]["rows"][inline] = services.revisions.proposal_rows(
                inline=inline, rows=rows
            )
        return None

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        event = form.instance
        if formset.model is EventRelation and event.status == EventStatus.PUBLISHED:
            services.events_linked_changed(event_ids=_other_ends(formset, "to_event"))
        elif formset.model is Citation:  # a published event's new sources are archived
            services.cited_sources_archive_later(event=event, source_ids=_newly_cited(formset))

    def construct_change_message(self, request, form, formsets, add=False):
        if getattr(request, "held_edit", None) is not None:
            return []  # the formsets saved nothing: there are no saved rows to describe
        return super().construct_change_message(request, form, formsets, add)

    def log_change(self, request, obj, message):
        if getattr(request, "held_edit", None) is None:  # a held edit changed nothing yet
            super().log_change(request, obj, message)

    # After a save and its inlines (add, change) or a restored version (no inlines), once.
    def response_add(self, request, obj, post_url_continue=None):
        self._after_save(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        held = getattr(request, "held_edit", None)
        if held is not None:
            return self._response_held(request, held)
        self._after_save(request, obj)
        return super().response_change(request, obj)

    def _response_held(self, request, held):
        revision = services.revision_propose(
            event=held["event"],
            user=request.user,
            proposal=held["proposal"],
            base_version=held["base_version"],
        )
        url = reverse("admin:events_eventrevision_change", args=[revision.pk])
        self.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                gettext(
                    "Your edit waits for an editor; the public still sees the published version."
                ),
                url,
                gettext("See your edit"),
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:events_event_change", args=[revision.event_id]))

    def _after_save(self, request, event):
        # Names, aliases and quotes arrive with the inlines: index them once all are saved.
        services.event_search_refresh(event_ids=[event.pk])
        self._warn_about_duplicates(request, event)

    def _warn_about_duplicates(self, request, event):
        duplicates = services.event_likely_duplicates(event=event)
        if not duplicates:
            return
        listed = format_html_join(
            "; ",
            '<a href="{}">{}</a> ({})',
            (
                (
                    reverse("admin:events_event_change", args=[other.pk]),
                    f"{other.public_id}: {other.title}",
                    reason,
                )
                for other, reason in duplicates
            ),
        )
        self.message_user(
            request,
            format_html(
                gettext("{event} may record the same happening as: {others}"),
                event=event.public_id,
                others=listed,
            ),
            messages.WARNING,
        )

    # History -------------------------------------------------------------------------------
    # simple-history reads the ids in these URLs straight into a query: "abc" would crash it.

    def history_view(self, request, object_id, extra_context=None):
        read_pk(Event, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        version = get_object_or_404(
            Event.history.all(),
            id=read_pk(Event, object_id),
            history_id=read_pk(Event.history.model, version_id),
        )
        if Event.objects.filter(pk=version.id).exists():
            return super().history_form_view(request, object_id, version_id, extra_context)
        if not self.has_view_history_or_change_history_permission(request, version.instance):
            raise PermissionDenied
        if request.method == "POST":
            return refusal(
                self,
                request,
                title=gettext("Not restored"),
                message=gettext("%(problem)s Nothing was saved.")
                % {"problem": deleted_message(version)},
                back=(reverse("admin:events_event_history", args=[version.id]), gettext("History")),
                status=404,
            )
        self.message_user(request, deleted_message(version), messages.WARNING)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        # A deleted event's old versions can be read; there is nothing to restore them over.
        if obj is not None and not Event.objects.filter(pk=obj.pk).exists():
            return True
        return super().revert_disabled(request, obj)

    # The workflow -------------------------------------------------------------------------

    def move_view(self, request, pk, move):
        event = get_object_or_404(Event, pk=pk)
        if move not in MOVES or not self.has_change_permission(request, event):
            raise PermissionDenied
        label, service, _starts, for_editors = MOVES[move]
        if for_editors and not request.user.has_perm("events.publish_event"):
            raise PermissionDenied
        form = MoveForm(request.POST or None, reason_required=move == "retract")
        from_queue = request.GET.get("from") == "queue"  # a name, never a URL to go to
        if request.method == "POST" and form.is_valid():
            self._apply(request, service, event, form.cleaned_data["comment"], move)
            if from_queue:
                return HttpResponseRedirect(reverse("admin:events_eventinreview_changelist"))
            return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))
        missing = services.event_publication_problems(event=event)
        context = {
            "review": move == "publish",
            "changes": changes_since_published(event) if move == "publish" else None,
            "preview_url": reverse("timeline:event-preview", args=[event.public_id])
            if event.status in (EventStatus.DRAFT, EventStatus.IN_REVIEW)
            else None,
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "event": event,
            "form": form,
            "label": label,
            "title": gettext("%(move)s: %(event)s") % {"move": label, "event": event.public_id},
            "missing": missing,
            "needs": services.events.join_problems(missing),
        }
        return TemplateResponse(request, "admin/events/event/move.html", context)

    def _apply(self, request, service, event, comment, move):
        try:
            if move == "retract":
                service(event=event, user=request.user, reason=comment)
            else:
                service(event=event, user=request.user, comment=comment)
        except (ValidationError, PermissionDenied) as error:
            text = " ".join(getattr(error, "messages", [str(error)]))
            self.message_user(request, text, messages.ERROR)
            return False
        self.message_user(
            request,
            gettext("%(event)s is now %(status)s.")
            % {"event": event.public_id, "status": event.get_status_display().lower()},
            messages.SUCCESS,
        )
        return True

    def _apply_to_each(self, request, queryset, move, comment=""):
        _label, service, _starts, _editors = MOVES[move]
        for event in queryset.order_by("date_earliest", "id"):
            self._apply(request, service, event, comment, move)

    @admin.action(description=_("Submit selected events for review"), permissions=["change"])
    def submit_selected(self, request, queryset):
        self._apply_to_each(request, queryset, "submit")

    @admin.action(description=_("Publish selected events"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._apply_to_each(request, queryset, "publish")

    @admin.action(description=_("Return selected events to draft"), permissions=["publish"])
    def return_selected(self, request, queryset):
        self._apply_to_each(request, queryset, "return")

    @admin.action(description=_("Retract selected events…"), permissions=["publish"])
    def retract_selected(self, request, queryset):
        form = MoveForm(request.POST if "apply" in request.POST else None, reason_required=True)
        if form.is_valid():
            self._apply_to_each(request, queryset, "retract", form.cleaned_data["comment"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "events": queryset,
            "title": gettext("Retract events"),
            "action": "retract_selected",
        }
        return TemplateResponse(request, "admin/events/event/retract_selected.html", context)

    def has_publish_permission(self, request):
        return request.user.has_perm("events.publish_event")


class MoveForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        required=False,
        help_text=_("Kept with the event's workflow history."),
    )

    def __init__(self, *args, reason_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        if reason_required:
            self.fields["comment"].required = True
            self.fields["comment"].label = gettext("Reason")
            self.fields["comment"].help_text = gettext(
                "Why the event is retracted. Readers see it on the event's page and in the "
                "change feed."
            )


@admin.register(EventInReview)
class EventInReviewAdmin(DeclaredFiltersAdmin, admin.ModelAdmin):
    """Events waiting for an editor, oldest first, with what they still lack."""

    list_display = ("open_link", "title", "submitted_at", "updated_by", "missing", "decide")
    list_display_links = None
    list_select_related = ("updated_by", "event_type")
    ordering = ("submitted_at", "id")
    search_fields = ("public_id", "title")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).filter(status=EventStatus.IN_REVIEW)
        return queryset.prefetch_related("citations")

    @admin.display(description=_("event"), ordering="public_id")
    def open_link(self, event):
        url = reverse("admin:events_event_change", args=[event.pk])
        return format_html('<a href="{}">{}</a>', url, event.public_id)

    @admin.display(description=_("still needs"))
    def missing(self, event):
        problems = services.event_publication_problems(
            event=event, citation_count=len(event.citations.all())
        )
        return services.events.join_problems(problems) or gettext("nothing: ready to publish")

    @admin.display(description=_("decide"))
    def decide(self, event):
        """Preview it as the public will see it, then publish or return it (each move's page
        shows what changed since it was last published, and comes back here)."""
        preview = reverse("timeline:event-preview", args=[event.public_id])
        links = [(preview, gettext("Preview"))]
        if getattr(_viewer, "can_publish", False):
            links += [
                (f"{reverse('admin:events_event_move', args=[event.pk, move])}?from=queue", label)
                for move, label in (("publish", gettext("Publish")), ("return", gettext("Return")))
            ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def changelist_view(self, request, extra_context=None):
        _viewer.can_publish = request.user.has_perm("events.publish_event")
        return super().changelist_view(request, extra_context)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("events.view_event")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _moderated(request, event):
    """Return whether this person's save of this event becomes an edit for an editor."""
    if event is None or event.pk is None:
        return False
    current = Event.objects.filter(pk=event.pk).only("status").first()
    return current is not None and services.event_is_moderated(event=current, user=request.user)


def _other_ends(formset, name):
    """Return what the rows a saved formset added, changed (before and after) or deleted
    refer to by one foreign key: the events at the other end of relations, say."""
    attname = formset.model._meta.get_field(name).attname
    ends = {getattr(row, attname) for row in formset.new_objects + formset.deleted_objects}
    for row, _fields in formset.changed_objects:
        (changed,) = [form for form in formset.forms if form.instance is row]
        ends |= {getattr(row, attname), changed.initial.get(name)}
    return ends - {None}


def _newly_cited(formset):
    """Return the sources a saved citations formset added, or put in place of another."""
    new = {row.source_id for row in formset.new_objects}
    return new | {row.source_id for row, fields in formset.changed_objects if "source" in fields}


def _ids(chosen, otherwise):
    return otherwise if chosen is None else [row.pk for row in chosen]


def deleted_message(event):
    return gettext(
        "%(event)s has been deleted: its old versions can be read here but not restored."
    ) % {"event": event.public_id}


def _date_in_words(event):
    """Return the event's date in words in the curator's language (date_display is English)."""
    try:
        return describe(event.date_text)
    except InvalidDate:  # a form sent back with a date it could not read
        return event.date_display


def _read_as(words, earliest, latest, precision, *, approximate, uncertain):
    """Return the "read as" line: the date in words, its bounds and how precise it is."""
    return gettext("%(date)s: %(earliest)s to %(latest)s (%(detail)s)") % {
        "date": words,
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat() if latest else gettext("ongoing"),
        "detail": _date_detail(str(precision).lower(), approximate, uncertain),
    }


def _date_detail(precision, approximate, uncertain):
    if approximate and uncertain:
        return gettext("%(precision)s precision, approximate and uncertain") % {
            "precision": precision
        }
    if approximate:
        return gettext("%(precision)s precision, approximate") % {"precision": precision}
    if uncertain:
        return gettext("%(precision)s precision, uncertain") % {"precision": precision}
    return gettext("%(precision)s precision") % {"precision": precision}
