from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import pages

app_name = "timeline"
urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="timeline:schema"), name="docs"),
    path("events/<str:public_id>/", pages.event_page, name="event-page"),
]
