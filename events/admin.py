"""The curators' room: where events, actors, platforms and sources are recorded."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max, Min
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .choices import EventStatus
from .models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventCount,
    EventRelation,
    EventType,
    Platform,
    PlatformAlias,
    Source,
    Tag,
)

# A URL typed without a scheme is read as https (Django 6's default; 5.2 warns otherwise).
HTTPS_URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class YearOverlapFilter(admin.SimpleListFilter):
    """Filter by year the way researchers read dates: events that may have touched that year."""

    title = "year"
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
        except ValueError:
            return queryset.none()
        return queryset.overlapping(start, end)


class EventActorInline(admin.TabularInline):
    model = EventActor
    autocomplete_fields = ("actor",)
    extra = 1


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
            raise ValidationError(f"A published event needs {', '.join(problems)}.")


class CitationInline(admin.TabularInline):
    model = Citation
    formset = CitationInlineFormSet
    autocomplete_fields = ("source",)
    fields = ("source", "quote", "locator", "note")
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}
    }
    extra = 1


class EventRelationInline(admin.TabularInline):
    model = EventRelation
    fk_name = "from_event"
    autocomplete_fields = ("to_event",)
    verbose_name = "related event"
    verbose_name_plural = "related events (this event … the other)"
    extra = 0


class EventCountInline(admin.TabularInline):
    model = EventCount
    fields = ("qualifier", "quantity", "unit", "note")
    extra = 0


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    list_display = (
        "public_id",
        "date_text",
        "title",
        "event_type",
        "country",
        "status",
        "verification",
    )
    list_display_links = ("public_id", "title")
    list_filter = (
        "status",
        "event_type__category",
        "event_type",
        ("country", CountryFilter),
        "platforms",
        "verification",
        YearOverlapFilter,
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
        "first_published_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    inlines = (EventActorInline, EventCountInline, CitationInline, EventRelationInline)
    fieldsets = (
        (None, {"fields": ("public_id", "title", "summary", "event_type", "tags")}),
        ("When", {"fields": ("date_text", "date_bounds")}),
        ("Where", {"fields": ("country", "is_global", "locality", ("latitude", "longitude"))}),
        ("What it hit", {"fields": ("platforms",)}),
        ("Status", {"fields": ("verification", "status", "internal_notes")}),
        (
            "Record",
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
    actions = ("publish",)

    def get_queryset(self, request):
        return super().get_queryset(request).for_admin_list()

    @admin.display(description="read as")
    def date_bounds(self, event):
        if event.date_earliest is None:
            return "-"
        latest = event.date_latest.isoformat() if event.date_latest else "ongoing"
        qualifiers = [
            word
            for word, flag in (
                ("approximate", event.date_is_approximate),
                ("uncertain", event.date_is_uncertain),
            )
            if flag
        ]
        detail = f"{event.get_date_precision_display().lower()} precision"
        if qualifiers:
            detail += ", " + " and ".join(qualifiers)
        return f"{event.date_earliest.isoformat()} to {latest} ({detail})"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "date_text":
            field.widget.attrs.update(placeholder="2014-03", size=30)
        elif db_field.name == "title":
            field.widget.attrs.update(size=80)
        return field

    def save_model(self, request, obj, form, change):
        services.event_save(event=obj, user=request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Names, aliases and quotes arrive with the inlines: index them once all are saved.
        services.event_search_refresh(event_ids=[form.instance.pk])

    @admin.action(description="Publish selected events", permissions=["change"])
    def publish(self, request, queryset):
        for event in queryset.exclude(status=EventStatus.PUBLISHED):
            try:
                services.event_publish(event=event, user=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"{event.public_id} published.", messages.SUCCESS)


class ShownInEventsAdmin:
    """Rows that events show (names, titles): a change reaches those events' output."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            changed = type(form.instance).objects.filter(pk=form.instance.pk)
            services.events_referencing_changed(events=changed.referencing_events())


@admin.register(EventCategory)
class EventCategoryAdmin(ShownInEventsAdmin, admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(EventType)
class EventTypeAdmin(ShownInEventsAdmin, admin.ModelAdmin):
    list_display = ("name", "category", "slug", "position")
    list_filter = ("category",)
    list_select_related = ("category",)
    search_fields = ("name", "slug", "category__name")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(ShownInEventsAdmin, admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class ActorAliasInline(admin.TabularInline):
    model = ActorAlias
    extra = 1


@admin.register(Actor)
class ActorAdmin(ShownInEventsAdmin, SimpleHistoryAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = ("name", "kind", "country", "parent", "wikidata_id")
    list_filter = ("kind", ("country", CountryFilter))
    list_select_related = ("parent",)
    search_fields = ("name", "slug", "aliases__name", "wikidata_id")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = (ActorAliasInline,)


class PlatformAliasInline(admin.TabularInline):
    model = PlatformAlias
    extra = 1


@admin.register(Platform)
class PlatformAdmin(ShownInEventsAdmin, SimpleHistoryAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = ("name", "kind", "operator", "country", "wikidata_id")
    list_filter = ("kind", ("country", CountryFilter))
    list_select_related = ("operator",)
    search_fields = ("name", "slug", "aliases__name", "wikidata_id")
    autocomplete_fields = ("operator",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = (PlatformAliasInline,)


@admin.register(Source)
class SourceAdmin(ShownInEventsAdmin, SimpleHistoryAdmin):
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = ("title", "publisher", "published_on", "kind", "language", "reliability")
    list_filter = ("kind", "reliability", "language")
    search_fields = ("title", "publisher", "authors", "url", "key")
    autocomplete_fields = ("publisher_actor",)
    prepopulated_fields = {"key": ("title",)}
    date_hierarchy = "published_on"
    fieldsets = (
        (None, {"fields": ("title", "key", "kind", "url", "archive_url")}),
        (
            "Publication",
            {
                "fields": (
                    "publisher",
                    "publisher_actor",
                    "authors",
                    "published_on",
                    "language",
                    "accessed_on",
                    "reliability",
                )
            },
        ),
        ("Private", {"classes": ("collapse",), "fields": ("full_text",)}),
    )
