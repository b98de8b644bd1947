from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"
    verbose_name = _("Censorship events")


class CurationAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the site that opens on the curator's work (named in settings)."""

    default = False  # events.apps's own config stays EventsConfig

    default_site = "events.site.CurationSite"
