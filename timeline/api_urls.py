from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("events", views.EventViewSet, basename="event")
router.register("actors", views.ActorViewSet, basename="actor")
router.register("platforms", views.PlatformViewSet, basename="platform")
router.register("sources", views.SourceViewSet, basename="source")
router.register("event-types", views.EventTypeViewSet, basename="event-type")
router.register("tags", views.TagViewSet, basename="tag")
router.register("releases", views.ReleaseViewSet, basename="release")

app_name = "api"
urlpatterns = [
    *router.urls,
    path("stats/", views.StatsView.as_view(), name="stats"),
    path("changes/", views.ChangeView.as_view(), name="change-list"),
]
