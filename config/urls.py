from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Censorship Timeline: curators"
admin.site.site_title = "Censorship Timeline"
admin.site.index_title = "Curation"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("timeline.api_urls")),
    path("", include("timeline.urls")),
]

handler400 = "timeline.errors.bad_request"
handler403 = "timeline.errors.permission_denied"
handler404 = "timeline.errors.page_not_found"
handler500 = "timeline.errors.server_error"
