from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Censorship Timeline: curators"
admin.site.site_title = "Censorship Timeline"
admin.site.index_title = "Curation"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("timeline.api_urls")),
    path("", include("timeline.urls")),
    # The public timeline page arrives with the reader pages; until then the root leads to
    # the API documentation.
    path("", RedirectView.as_view(url="/api/docs/", permanent=False)),
]
