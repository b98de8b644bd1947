"""What events refer to: actors, platforms, sources, the taxonomy and tags; merging duplicates."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter
from simple_history.admin import SimpleHistoryAdmin

from .. import services
from ..choices import EventStatus
from ..models import (
    Actor,
    ActorAlias,
    EventCategory,
    EventType,
    Platform,
    PlatformAlias,
    Source,
    Tag,
)
from ..resources import ActorResource, PlatformResource, SourceResource
from ..services.archiving import archiving_enabled
from ..services.link_checks import source_link_status_shown
from .changelist import DeclaredFiltersAdmin
from .importing import ImportingAdmin
from .relations import HistoryKeysAdmin

# A URL typed without a scheme is read as https (Django 6's default; 5.2 warns otherwise).
HTTPS_URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class ShownInEventsAdmin:
    """Rows that events show (names, titles): a change reaches those events' output."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            changed = type(form.instance).objects.filter(pk=form.instance.pk)
            services.events_referencing_changed(events=changed.referencing_events())

    def delete_model(self, request, obj):
        services.references_delete(rows=type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.references_delete(rows=queryset)


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        label=_("Keep"),
        help_text=_("The others' events move to it; their names become its aliases."),
    )

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = queryset


class MergingAdmin:
    """An action that folds the selected rows into one of them (editors only)."""

    merge_service = None

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(f"events.merge_{self.opts.model_name}"):
            actions.pop("merge_selected", None)
        return actions

    @admin.action(description=_("Merge selected into one…"))
    def merge_selected(self, request, queryset):
        if not request.user.has_perm(f"events.merge_{self.opts.model_name}"):
            raise PermissionDenied
        if queryset.count() < 2:
            self.message_user(request, gettext("Select at least two to merge."), messages.ERROR)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, queryset=queryset)
        if form.is_valid():
            keep = form.cleaned_data["keep"]
            try:
                type(self).merge_service(keep=keep, merge=list(queryset), user=request.user)
            except (ValidationError, PermissionDenied) as error:
                self.message_user(
                    request, " ".join(getattr(error, "messages", [str(error)])), messages.ERROR
                )
            else:
                message = gettext("Merged into %(kept)s.") % {"kept": keep}
                self.message_user(request, message, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "rows": queryset,
            "title": gettext("Merge %(rows)s") % {"rows": self.opts.verbose_name_plural},
        }
        return TemplateResponse(request, "admin/events/merge.html", context)


@admin.register(EventCategory)
class EventCategoryAdmin(DeclaredFiltersAdmin, ShownInEventsAdmin, admin.ModelAdmin):
    list_display = ("name", "slug", "position")
    list_editable = ("position",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(EventType)
class EventTypeAdmin(DeclaredFiltersAdmin, ShownInEventsAdmin, admin.ModelAdmin):
    list_display = ("name", "category", "slug", "position")
    list_filter = ("category",)
    list_select_related = ("category",)
    search_fields = ("name", "slug", "category__name")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(DeclaredFiltersAdmin, ShownInEventsAdmin, admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class ActorAliasInline(admin.TabularInline):
    model = ActorAlias
    extra = 1


class NamedAdmin(
    DeclaredFiltersAdmin,
    HistoryKeysAdmin,
    ShownInEventsAdmin,
    MergingAdmin,
    ImportingAdmin,
    SimpleHistoryAdmin,
):
    """Actors and platforms: named, aliased, mergeable, importable."""

    formfield_overrides = HTTPS_URL_FIELDS
    list_filter = ("kind", ("country", CountryFilter))
    search_fields = ("name", "slug", "aliases__name", "wikidata_id")
    prepopulated_fields = {"slug": ("name",)}
    actions = ("merge_selected",)


@admin.register(Actor)
class ActorAdmin(NamedAdmin):
    resource_classes = [ActorResource]
    merge_service = staticmethod(services.actor_merge)
    list_display = ("name", "kind", "country", "parent", "wikidata_id")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    inlines = (ActorAliasInline,)


class PlatformAliasInline(admin.TabularInline):
    model = PlatformAlias
    extra = 1


@admin.register(Platform)
class PlatformAdmin(NamedAdmin):
    resource_classes = [PlatformResource]
    merge_service = staticmethod(services.platform_merge)
    list_display = ("name", "kind", "operator", "country", "wikidata_id")
    list_select_related = ("operator",)
    autocomplete_fields = ("operator",)
    inlines = (PlatformAliasInline,)


class LinkFilter(admin.SimpleListFilter):
    title = _("link")
    parameter_name = "link"

    def lookups(self, request, model_admin):
        return [("dead", _("Dead")), ("alive", _("Alive")), ("unchecked", _("Not checked"))]

    def queryset(self, request, queryset):
        match self.value():
            case "dead":
                return queryset.filter(is_link_dead=True)
            case "alive":
                return queryset.filter(is_link_dead=False, link_checked_at__isnull=False)
            case "unchecked":
                return queryset.exclude(url="").filter(link_checked_at__isnull=True)
        return queryset


class ArchiveFilter(admin.SimpleListFilter):
    title = _("archived copy")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("yes", _("Archived")), ("no", _("Not archived")), ("failed", _("Failed"))]

    def queryset(self, request, queryset):
        match self.value():
            case "yes":
                return queryset.exclude(archive_url="")
            case "no":
                return queryset.exclude(url="").filter(archive_url="")
            case "failed":
                return queryset.exclude(archive_error="")
        return queryset


@admin.register(Source)
class SourceAdmin(
    DeclaredFiltersAdmin, HistoryKeysAdmin, ShownInEventsAdmin, ImportingAdmin, SimpleHistoryAdmin
):
    resource_classes = [SourceResource]
    formfield_overrides = HTTPS_URL_FIELDS
    list_display = (
        "title",
        "publisher",
        "published_on",
        "kind",
        "language",
        "reliability",
        "link",
        "is_archived",
    )
    list_filter = ("kind", "reliability", "language", LinkFilter, ArchiveFilter)
    search_fields = ("title", "publisher", "authors", "url", "key")
    autocomplete_fields = ("publisher_actor",)
    prepopulated_fields = {"key": ("title",)}
    date_hierarchy = "published_on"
    readonly_fields = ("link", "link_checked_at", "archived_at", "archive_error")
    actions = ("archive_selected",)
    change_form_template = "admin/events/source/change_form.html"
    fieldsets = (
        (None, {"fields": ("title", "key", "summary", "kind", "url", "archive_url")}),
        (
            _("Link and archived copy"),
            {"fields": ("link", "link_checked_at", "archived_at", "archive_error")},
        ),
        (
            _("Publication"),
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
        (_("Private"), {"classes": ("collapse",), "fields": ("full_text",)}),
    )

    @admin.display(description=_("link"), ordering="is_link_dead")
    def link(self, source):
        if source.link_checked_at is None:
            return "–"
        if source.is_link_dead:
            status = source_link_status_shown(source.link_status)
            return gettext("Dead: %(status)s") % {"status": status}
        return source_link_status_shown(source.link_status)

    @admin.display(description=_("archived"), boolean=True, ordering="archive_url")
    def is_archived(self, source):
        return bool(source.archive_url)

    def get_urls(self):
        archive = self.admin_site.admin_view(self.archive_view)
        return [
            path("<int:pk>/archive/", archive, name="events_source_archive"),
            *super().get_urls(),
        ]

    @admin.action(description=_("Archive selected sources now"), permissions=["change"])
    def archive_selected(self, request, queryset):
        self._archive(request, queryset)

    def archive_view(self, request, pk):
        """Confirm, then archive one source now (the change page's "Archive now")."""
        source = get_object_or_404(Source, pk=pk)
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        change_page = reverse("admin:events_source_change", args=[source.pk])
        if request.method == "POST":
            self._archive(request, Source.objects.filter(pk=source.pk))
            return HttpResponseRedirect(change_page)
        # Archiving tells the Internet Archive what we look at: name the unpublished events.
        unpublished = source.citations.exclude(event__status=EventStatus.PUBLISHED)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "source": source,
            "title": gettext("Archive now: %(source)s") % {"source": source},
            "unpublished": unpublished.select_related("event").order_by("event__public_id"),
            "change_page": change_page,
        }
        return TemplateResponse(request, "admin/events/source/archive.html", context)

    def _archive(self, request, queryset):
        if not archiving_enabled():
            self.message_user(
                request, gettext("Archiving is off: set ARCHIVE_ENDPOINT."), messages.ERROR
            )
            return
        queued = services.sources_archive_later(sources=queryset)
        if not queued:
            self.message_user(request, gettext("No source with a URL selected."), messages.WARNING)
            return
        message = gettext(
            "Asked the Internet Archive to save %(count)s source(s). The copy's address "
            "appears on each when it is saved; a failure shows under 'Link and archived copy'."
        )
        self.message_user(request, message % {"count": queued}, messages.SUCCESS)
