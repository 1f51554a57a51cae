"""Who is who: people, their organisations, their roles, and the agency-buyer engagements."""

import hashlib

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import localdate, now

from qcloop.core.reference import validate_country, validate_timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """A person who signs in: buyer staff, agency staff (coordinator, QC lead, inspector) or
    supplier staff. Signs in with an email address; sees times in their own time zone."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    phone = models.CharField(max_length=32, blank=True, help_text="For urgent escalations.")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def membership(self) -> "Membership | None":
        """The user's one organisation membership, or None (platform staff have none)."""
        try:
            return self.membership_record
        except Membership.DoesNotExist:
            return None


class OrganisationKind(models.TextChoices):
    BUYER = "buyer", "Buyer"
    AGENCY = "agency", "QC agency"
    SUPPLIER = "supplier", "Supplier"


class Organisation(models.Model):
    """A party to a PO: the buyer (importer, brand, buying office), the agency (a QC firm or
    the buyer's own QC department) or the supplier (the factory side)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=OrganisationKind.choices)
    country = models.CharField(max_length=2, validators=[validate_country])
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # A buyer's choice: its suppliers see the published reports of their POs too.
    shares_reports_with_suppliers = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    BUYER_VIEWER = "buyer_viewer", "Buyer viewer"
    BUYER_MANAGER = "buyer_manager", "Buyer manager"
    COORDINATOR = "coordinator", "Coordinator"
    QC_LEAD = "qc_lead", "QC lead"
    INSPECTOR = "inspector", "Inspector"
    SUPPLIER_USER = "supplier_user", "Supplier user"
    ADMIN = "admin", "Organisation admin"


ROLES_BY_KIND = {
    OrganisationKind.BUYER: {Role.BUYER_VIEWER, Role.BUYER_MANAGER, Role.ADMIN},
    OrganisationKind.AGENCY: {Role.COORDINATOR, Role.QC_LEAD, Role.INSPECTOR, Role.ADMIN},
    OrganisationKind.SUPPLIER: {Role.SUPPLIER_USER, Role.ADMIN},
}


class Membership(models.Model):
    """A user's place in one organisation, with one role. A user belongs to one organisation:
    that keeps every answer to "what may this person see" a single, auditable rule."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership_record")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["organisation__name", "user__full_name"]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} at {self.organisation}"

    def clean(self):
        allowed = ROLES_BY_KIND[OrganisationKind(self.organisation.kind)]
        if self.role not in allowed:
            names = ", ".join(sorted(Role(r).label for r in allowed))
            raise ValidationError(
                {"role": f"A {self.organisation.get_kind_display()} member can be: {names}."}
            )

    @property
    def kind(self) -> str:
        return self.organisation.kind

    @property
    def is_buyer(self) -> bool:
        return self.organisation.kind == OrganisationKind.BUYER

    @property
    def is_agency(self) -> bool:
        return self.organisation.kind == OrganisationKind.AGENCY

    @property
    def is_supplier(self) -> bool:
        return self.organisation.kind == OrganisationKind.SUPPLIER


class Engagement(models.Model):
    """An agency serving a buyer: the agency's coordinators and QC leads may then register
    suppliers and products and enter POs on that buyer's behalf."""

    agency = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="client_engagements"
    )
    buyer = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="agency_engagements"
    )
    started_on = models.DateField(default=localdate)
    # How this client's lots are sampled (ISO 2859-1): the agency chooses per client.
    sampling_method = models.CharField(
        max_length=10,
        choices=[
            ("industry", "Industry practice: one sample, each class its own Ac/Re"),
            ("strict", "Strict: each class its own plan, judged on its first n units"),
        ],
        default="industry",
    )
    inspection_level = models.CharField(max_length=4, default="II")
    aql_critical = models.CharField("critical AQL", max_length=6, default="0")
    aql_major = models.CharField("major AQL", max_length=6, default="2.5")
    aql_minor = models.CharField("minor AQL", max_length=6, default="4.0")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "buyer"], name="unique_engagement")
        ]

    def __str__(self):
        return f"{self.agency} serves {self.buyer}"

    @property
    def aqls(self) -> dict[str, str]:
        return {"critical": self.aql_critical, "major": self.aql_major, "minor": self.aql_minor}

    def clean(self):
        from qcloop.sampling import AQLS, LEVELS

        errors = {}
        if self.inspection_level not in LEVELS:
            errors["inspection_level"] = f"Use one of {', '.join(LEVELS)}."
        for name, value in self.aqls.items():
            if value not in {"0", *AQLS}:
                errors[f"aql_{name}"] = f"{value!r} is not an AQL of ISO 2859-1 (or 0)."
        if self.agency.kind != OrganisationKind.AGENCY:
            errors["agency"] = "The serving organisation must be a QC agency."
        if self.buyer.kind != OrganisationKind.BUYER:
            errors["buyer"] = "The client organisation must be a buyer."
        if errors:
            raise ValidationError(errors)


def hash_token(secret: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenAccess(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    """A personal API token for integrations. Only its SHA-256 is stored; the token itself is
    shown once, when it is made. Acts with the rights of its user, until revoked; a read-only
    token only reads, whatever its user may do (a BI tool needs no more)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    access = models.CharField(max_length=5, choices=TokenAccess.choices, default=TokenAccess.WRITE)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        moment = now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)


class LoginFailure(models.Model):
    """A wrong password given at sign-in, kept a day: the evidence that throttles guessing
    (accounts/throttle.py). In the database, so that every app server counts the same."""

    email = models.CharField(max_length=254)  # as typed, lower-cased
    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["email", "at"]), models.Index(fields=["address", "at"])]

    def __str__(self):
        return f"{self.email} from {self.address or 'unknown'} at {self.at:%Y-%m-%d %H:%M}"
