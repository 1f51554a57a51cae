from django.urls import path

from . import views

app_name = "scheduling"
urlpatterns = [
    path("pos/<int:pk>/schedule/", views.po_schedule, name="po_schedule"),
    path("pos/<int:pk>/progress/", views.report_progress, name="report_progress"),
    path("pos/<int:pk>/qc-lead/", views.reassign_lead, name="reassign_lead"),
    path("milestones/<int:pk>/book/", views.book, name="book"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/change/", views.calendar_change, name="calendar_change"),
    path("calendar/feeds/", views.feed_list, name="feeds"),
    path("calendar/feeds/<str:token>.ics", views.feed, name="feed"),
]
