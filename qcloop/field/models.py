"""What the field app's sync keeps on the server: the operations already applied (so that a
retry is recognised) and the photo uploads in progress (so that one resumes where it broke)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SyncReceipt(models.Model):
    """One operation from a phone, applied. Its id was made on the phone: the same operation
    sent again (the answer was lost on the way back) is acknowledged, not applied twice."""

    op_id = models.UUIDField(unique=True)
    milestone = models.ForeignKey(
        "inspections.Milestone", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20)
    device = models.CharField(max_length=36)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    revision = models.PositiveIntegerField()  # the milestone's revision once applied
    applied_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.kind} {self.op_id}"


class UploadPart(models.TextChoices):
    RENDITION = "rendition", "Rendition made on the phone"
    ORIGINAL = "original", "Original, after its rendition"
    PHOTO = "photo", "Original, sent alone"


class FieldUpload(models.Model):
    """A photo file on its way from a phone, received in chunks. It turns into a photo
    attachment once every byte is here and the SHA-256 the phone announced matches."""

    id = models.UUIDField(primary_key=True)  # made on the phone
    milestone = models.ForeignKey(
        "inspections.Milestone", on_delete=models.CASCADE, related_name="+"
    )
    photo_uuid = models.UUIDField()
    part = models.CharField(max_length=10, choices=UploadPart.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    links = models.JSONField(default=dict, blank=True)  # caption, defect, item_code, ...
    received = models.PositiveBigIntegerField(default=0)
    chunks = models.JSONField(default=list, blank=True)  # storage names, in order
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["photo_uuid", "part"], name="unique_upload_part")
        ]

    def __str__(self):
        return f"{self.part} of photo {self.photo_uuid}"

    @property
    def done(self) -> bool:
        return self.completed_at is not None
