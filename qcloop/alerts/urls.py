from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("escalations/", views.escalation_list, name="list"),
    path("escalations/settings/", views.escalation_settings, name="settings"),
    path("escalations/<int:pk>/", views.escalation_detail, name="detail"),
    path("escalations/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path(
        "escalations/<int:pk>/notifications/<int:notification>/replay/",
        views.replay,
        name="replay",
    ),
    # No sign-in: the signed token is the permission (see links.py).
    path("escalations/ack/<str:token>/", views.ack_link, name="ack_link"),
]
