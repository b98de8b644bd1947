from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

# The API answers in English at one address; pages and the admin also in Simplified Chinese
# under /zh-hans/ (config.languages).
urlpatterns = [
    path("api/v1/", include("timeline.api_urls")),
    *i18n_patterns(
        path("admin/", admin.site.urls),
        path("", include("timeline.urls")),
        prefix_default_language=False,
    ),
]

handler400 = "timeline.errors.bad_request"
handler403 = "timeline.errors.permission_denied"
handler404 = "timeline.errors.page_not_found"
handler500 = "timeline.errors.server_error"
