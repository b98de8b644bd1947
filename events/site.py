"""The admin site: Django's, opening on the curator's work (events.admin.dashboard).

Outside the events.admin package: that package registers models on the site as it is
imported, and the site must exist before it does.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class CurationSite(admin.AdminSite):
    site_header = _("Censorship Timeline: curators")
    site_title = _("Censorship Timeline")
    index_title = _("Curation")
    index_template = "admin/curation_index.html"  # Django's index, with the dashboard first

    def index(self, request, extra_context=None):
        from .admin.dashboard import panels  # the models are ready by the first request

        context = {"dashboard": panels(request), **(extra_context or {})}
        return super().index(request, context)
