from django.contrib import admin

from .models import Milestone


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "window_start",
        "window_end",
        "inspection_date",
        "inspector",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["po__number"]
    raw_id_fields = ["po", "inspector"]
