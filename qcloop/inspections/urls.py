from django.urls import path

from . import aql_views, views

app_name = "inspections"
urlpatterns = [
    path("aql/", aql_views.aql_calculator, name="aql"),
    path("milestones/<int:pk>/", views.milestone_detail, name="milestone_detail"),
    path("milestones/<int:pk>/plan/", views.milestone_plan, name="milestone_plan"),
    path("milestones/<int:pk>/sampling/", views.milestone_sampling, name="milestone_sampling"),
    path(
        "milestones/<int:pk>/transition/", views.milestone_transition, name="milestone_transition"
    ),
]
