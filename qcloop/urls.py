from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("", include("qcloop.core.urls")),
    path("accounts/", include("qcloop.accounts.urls")),
    path("", include("qcloop.orders.urls")),
    path("", include("qcloop.inspections.urls")),
    path("field/", include("qcloop.field.urls")),
    path("", include("qcloop.reports.urls")),
    path("", include("qcloop.alerts.urls")),
    path("", include("qcloop.capa.urls")),
    path("", include("qcloop.analytics.urls")),
    path("", include("qcloop.commercial.urls")),
    path("", include("qcloop.scheduling.urls")),
    path("", include("qcloop.ops.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
