from django.urls import path

from . import views

app_name = "capa"
urlpatterns = [
    path("capas/", views.capa_list, name="list"),
    path("capas/<int:pk>/", views.capa_detail, name="detail"),
    path("capas/<int:pk>/answer/", views.answer, name="answer"),
    path("capas/<int:pk>/decide/", views.decide, name="decide"),
    path("capas/<int:pk>/verify/", views.verify, name="verify"),
    path("capas/evidence/<int:pk>/<str:kind>/", views.evidence_file, name="evidence_file"),
    path("milestones/<int:pk>/capas/new/", views.open_by_hand, name="new"),
]
