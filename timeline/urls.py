from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import data, feeds, pages

app_name = "timeline"
urlpatterns = [
    path("", pages.timeline_page, name="home"),
    path("about/", pages.about_page, name="about"),
    path("feeds/events.atom", feeds.event_feed, name="events-feed"),
    path("data/", data.releases_page, name="data"),
    path("data/<int:number>/", data.release_page, name="release"),
    path("data/<int:number>/<str:name>", data.release_file, name="release-file"),
    path("events/<str:public_id>/", pages.event_page, name="event-page"),
    path("events/<str:public_id>/preview/", pages.event_preview, name="event-preview"),
    path("actors/<slug:slug>/", pages.actor_page, name="actor-page"),
    path("platforms/<slug:slug>/", pages.platform_page, name="platform-page"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's settings as a script of its own: no inline script.
    # Swagger UI does write inline styles, which this page alone allows.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="timeline:schema")
        ),
        name="docs",
    ),
]
