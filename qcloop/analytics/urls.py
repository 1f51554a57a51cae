from django.urls import path

from . import dashboard_views, scorecard_views

app_name = "analytics"
urlpatterns = []
urlpatterns.append(path("dashboard/", dashboard_views.dashboard, name="dashboard"))
urlpatterns.append(
    path(
        "dashboard/export/<slug:name>.<str:fmt>",
        dashboard_views.dashboard_export,
        name="dashboard_export",
    )
)
urlpatterns.append(
    path("dashboard/snapshot/", dashboard_views.dashboard_snapshot, name="dashboard_snapshot")
)
urlpatterns.append(path("scorecards/", scorecard_views.scorecards, name="scorecards"))
urlpatterns.append(
    path(
        "scorecards/export/<slug:name>.<str:fmt>",
        scorecard_views.scorecards_export,
        name="scorecards_export",
    )
)
urlpatterns.append(
    path("suppliers/<int:pk>/scorecard/", scorecard_views.scorecard, name="scorecard")
)
urlpatterns.append(
    path(
        "suppliers/<int:pk>/scorecard/export/<slug:name>.<str:fmt>",
        scorecard_views.scorecard_export,
        name="scorecard_export",
    )
)
