from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Censorship Timeline: curators"
admin.site.site_title = "Censorship Timeline"
admin.site.index_title = "Curation"

urlpatterns = [
    path("admin/", admin.site.urls),
    # The public timeline arrives with the reader pages; until then the root leads to curation.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
