"""The curators' room: where events, actors, platforms and sources are recorded."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import events, references  # noqa: F401  (each registers its models)

admin.site.site_header = _("Censorship Timeline: curators")
admin.site.site_title = _("Censorship Timeline")
admin.site.index_title = _("Curation")
