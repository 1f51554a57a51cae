from django.urls import path

from . import dossier_views, views

app_name = "reports"
urlpatterns = [
    path("reports/", views.report_list, name="list"),
    path("reports/turnaround/", views.turnaround, name="turnaround"),
    path("reports/recipients/", views.recipients, name="recipients"),
    path("reports/<int:pk>/", views.report_detail, name="detail"),
    path("reports/<int:pk>/preview.pdf", views.preview_pdf, name="preview_pdf"),
    path("reports/<int:pk>/review/", views.review, name="review"),
    path("reports/<int:pk>/correction/", views.correction, name="correction"),
    path("reports/<int:pk>/v<int:number>/", views.version_html, name="version"),
    path("reports/<int:pk>/v<int:number>.pdf", views.version_pdf, name="version_pdf"),
    # No sign-in: the signed token is the permission (see links.py).
    path("reports/pdf/<str:token>/", views.linked_pdf, name="linked_pdf"),
    path("verify/", views.verify, name="verify"),
    path("pos/<int:pk>/dossier.zip", dossier_views.po_dossier, name="dossier"),
]
