from django.urls import path

from . import views

app_name = "commercial"
urlpatterns = [
    path("pos/<int:pk>/quote/", views.po_quote, name="po_quote"),
    path("quotes/<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("fees/", views.fee_schedules, name="fee_schedules"),
]
