"""Pending edits of published events: editors compare each with the published event, then
approve or reject it; curators follow their own."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .. import services
from ..models import EventRevision
from ..services.events import PUBLISH_PERMISSION
from .changelist import DeclaredFiltersAdmin
from .relations import HistoryKeysAdmin, read_pk
from .review import revision_changes

Status = EventRevision.Status


class RevisionStatusFilter(admin.SimpleListFilter):
    """Pending edits unless asked otherwise: the list is the editors' queue."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*Status.choices, ("all", _("All"))]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or Status.PENDING) == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or Status.PENDING
        return queryset if value == "all" else queryset.filter(status=value)


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        required=False,
        help_text=_("Needed to reject: the author reads it."),
    )


@admin.register(EventRevision)
class EventRevisionAdmin(DeclaredFiltersAdmin, HistoryKeysAdmin, SimpleHistoryAdmin):
    list_display = ("edit", "event_title", "author", "created_at", "status", "reviewer")
    list_display_links = None
    list_filter = (RevisionStatusFilter,)
    list_select_related = ("event", "author", "reviewer")
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        revisions = super().get_queryset(request).select_related("event", "author", "reviewer")
        if request.user.has_perm(PUBLISH_PERMISSION):
            return revisions
        return revisions.filter(author=request.user)  # a curator follows their own edits

    @admin.display(description=_("edit"), ordering="created_at")
    def edit(self, revision):
        url = reverse("admin:events_eventrevision_change", args=[revision.pk])
        return format_html('<a href="{}">{}</a>', url, revision.event.public_id)

    @admin.display(description=_("title"))
    def event_title(self, revision):
        return revision.event.title

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        revision = self.get_object(request, read_pk(EventRevision, object_id))
        if revision is None:
            raise Http404
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        may_decide = request.user.has_perm(PUBLISH_PERMISSION)
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and "withdraw" in request.POST:
            if self._withdraw(request, revision):
                return HttpResponseRedirect(
                    reverse("admin:events_event_change", args=[revision.event_id])
                )
        elif request.method == "POST":
            if not may_decide:
                raise PermissionDenied
            if form.is_valid() and self._decide(request, revision, form.cleaned_data["comment"]):
                return HttpResponseRedirect(reverse("admin:events_eventrevision_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "revision": revision,
            "event": revision.event,
            "changes": revision_changes(revision),
            "form": form,
            "may_decide": may_decide and revision.status == Status.PENDING,
            "may_withdraw": revision.author_id == request.user.pk
            and revision.status == Status.PENDING,
            "title": str(revision),
        }
        return TemplateResponse(request, "admin/events/eventrevision/review.html", context)

    def _withdraw(self, request, revision):
        try:
            services.revision_withdraw(revision=revision, user=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return False
        self.message_user(
            request,
            gettext("Your edit of %(event)s is withdrawn: you may edit the event again.")
            % {"event": revision.event.public_id},
            messages.SUCCESS,
        )
        return True

    def _decide(self, request, revision, comment):
        try:
            if "approve" in request.POST:
                services.revision_approve(revision=revision, user=request.user, comment=comment)
                done = gettext("The edit of %(event)s is approved: the public sees it now.")
            else:
                services.revision_reject(revision=revision, user=request.user, comment=comment)
                done = gettext("The edit of %(event)s is rejected.")
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return False
        self.message_user(request, done % {"event": revision.event.public_id}, messages.SUCCESS)
        return True
