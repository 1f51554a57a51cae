from django.contrib import admin

from .models import (
    CartonCheck,
    CheckAnswer,
    ChecklistTemplate,
    ChecklistVersion,
    Defect,
    DefectClassOverride,
    DefectCode,
    LoadedCartons,
    LoadingRecord,
    MeasurementChart,
    MeasurementReading,
    Milestone,
    Photo,
    PhotoAttachment,
    ProductionStatus,
    SwitchingStream,
)


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


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "category", "milestone_kind"]
    list_filter = ["category", "milestone_kind", "agency"]


@admin.register(ChecklistVersion)
class ChecklistVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "number", "created_at", "created_by"]
    readonly_fields = ["template", "number", "items", "created_at", "created_by"]

    def has_change_permission(self, request, obj=None):
        return False  # versions are frozen: edit the template to make a new one


@admin.register(DefectCode)
class DefectCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "group", "default_class", "agency"]
    list_filter = ["category", "default_class"]
    search_fields = ["code", "name", "group"]


@admin.register(Defect)
class DefectAdmin(admin.ModelAdmin):
    list_display = ["milestone", "description", "defect_class", "quantity", "systematic"]
    list_filter = ["defect_class", "systematic", "from_measurements"]
    raw_id_fields = ["milestone", "code", "po_line", "created_by"]


@admin.register(MeasurementChart)
class MeasurementChartAdmin(admin.ModelAdmin):
    list_display = ["product", "size", "version", "defect_class"]
    raw_id_fields = ["product"]


@admin.register(SwitchingStream)
class SwitchingStreamAdmin(admin.ModelAdmin):
    list_display = ["supplier", "category", "defect_class", "reduced_approved", "updated_at"]
    list_filter = ["category", "defect_class"]


admin.site.register(
    [
        CheckAnswer,
        DefectClassOverride,
        MeasurementReading,
        ProductionStatus,
        CartonCheck,
        LoadingRecord,
        LoadedCartons,
    ]
)


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["sha256", "format", "width", "height", "taken_at", "camera", "software"]
    search_fields = ["sha256", "camera"]
    readonly_fields = [f.name for f in Photo._meta.fields]


@admin.register(PhotoAttachment)
class PhotoAttachmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "milestone", "status", "uploaded_at", "reviewed_by"]
    list_filter = ["status"]
    raw_id_fields = ["milestone", "photo", "defect", "reading", "uploaded_by", "reviewed_by"]
