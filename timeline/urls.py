from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import pages

app_name = "timeline"
urlpatterns = [
    path("", pages.timeline_page, name="home"),
    path("about/", pages.about_page, name="about"),
    path("events/<str:public_id>/", pages.event_page, name="event-page"),
    path("actors/<slug:slug>/", pages.actor_page, name="actor-page"),
    path("platforms/<slug:slug>/", pages.platform_page, name="platform-page"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="timeline:schema"), name="docs"),
]
