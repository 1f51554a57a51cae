"""The project's URLs plus the photo dossier, for the dossier's tests until
qcloop/reports/urls.py declares `pos/<int:pk>/dossier.zip`."""

from django.urls import path

from qcloop.reports.dossier_views import po_dossier
from qcloop.urls import urlpatterns as project

urlpatterns = [path("pos/<int:pk>/dossier.zip", po_dossier, name="dossier"), *project]
