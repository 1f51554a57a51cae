from django.urls import path

from . import views

app_name = "ops"
urlpatterns = [
    path("livez", views.live, name="live"),
    path("readyz", views.ready, name="ready"),
    path("metrics", views.metrics_page, name="metrics"),
]
