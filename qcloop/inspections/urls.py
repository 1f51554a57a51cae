from django.urls import path

from . import aql_views, checklist_views, inspect_views, lab_views, photo_views, views

app_name = "inspections"
urlpatterns = [
    path("aql/", aql_views.aql_calculator, name="aql"),
    path("checklists/", checklist_views.checklist_list, name="checklists"),
    path("checklists/<int:pk>/", checklist_views.checklist_edit, name="checklist_edit"),
    path("milestones/<int:pk>/", views.milestone_detail, name="milestone_detail"),
    path("milestones/<int:pk>/plan/", views.milestone_plan, name="milestone_plan"),
    path("milestones/<int:pk>/sampling/", views.milestone_sampling, name="milestone_sampling"),
    path(
        "milestones/<int:pk>/transition/", views.milestone_transition, name="milestone_transition"
    ),
    path("milestones/<int:pk>/inspect/", inspect_views.inspect, name="inspect"),
    path("milestones/<int:pk>/photos/", photo_views.milestone_photos, name="milestone_photos"),
    path("milestones/<int:pk>/photos/upload/", photo_views.upload, name="upload_photos"),
    path("pos/<int:pk>/photos/", photo_views.po_photos, name="po_photos"),
    path("photos/<int:pk>/review/", photo_views.review, name="review_photo"),
    path("photos/<int:pk>/<str:kind>/", photo_views.photo_file, name="photo_file"),
    path("milestones/<int:pk>/inspect/answer/", inspect_views.record_answer, name="record_answer"),
    path("milestones/<int:pk>/inspect/defects/", inspect_views.record_defect, name="record_defect"),
    path(
        "milestones/<int:pk>/inspect/defects/<int:defect_pk>/remove/",
        inspect_views.remove_defect,
        name="remove_defect",
    ),
    path(
        "milestones/<int:pk>/inspect/readings/", inspect_views.record_reading, name="record_reading"
    ),
    path(
        "milestones/<int:pk>/inspect/production/",
        inspect_views.record_production,
        name="record_production",
    ),
    path("milestones/<int:pk>/inspect/cartons/", inspect_views.record_carton, name="record_carton"),
    path(
        "milestones/<int:pk>/inspect/loading/", inspect_views.record_loading, name="record_loading"
    ),
    path("milestones/<int:pk>/inspect/submit/", inspect_views.submit, name="submit"),
    path("milestones/<int:pk>/lab-tests/new/", lab_views.lab_test_new, name="lab_test_new"),
    path("lab-tests/<int:pk>/", lab_views.lab_test_edit, name="lab_test_edit"),
    path("lab-tests/<int:pk>/delete/", lab_views.lab_test_delete, name="lab_test_delete"),
    path("lab-tests/<int:pk>/certificate/", lab_views.lab_certificate, name="lab_certificate"),
]
