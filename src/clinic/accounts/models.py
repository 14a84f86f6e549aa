"""The custom user model, with a role, present from the first migration."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    """What a person does in the unit; decides what they may see and do."""

    PATIENT = "patient", "Patient"
    RECEPTION = "reception", "Reception"
    CLINICIAN = "clinician", "Clinician"
    ADMIN = "admin", "Administrator"


STAFF_ROLES = frozenset({Role.RECEPTION, Role.CLINICIAN, Role.ADMIN})


class UserManager(BaseUserManager["User"]):
    """Creates users signed in by email address."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        """A user with the given role (patient unless told otherwise)."""
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        """An administrator with every Django permission."""
        fields.update(role=Role.ADMIN, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a patient or a member of staff, identified by email."""

    email = models.EmailField("email address", unique=True, max_length=254)
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT)
    is_active = models.BooleanField(default=True)
    email_verified = models.BooleanField(
        default=False, help_text="The person has followed the link sent to this address."
    )
    practitioner = models.OneToOneField(
        "directory.Practitioner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="user",
        help_text="The directory entry of a member of staff, where they have one.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_known"
            ),
            # Django's superuser flag is for administrators only.
            models.CheckConstraint(
                condition=models.Q(is_superuser=False) | models.Q(role="admin"),
                name="user_superuser_is_admin",
            ),
            # Only staff are linked to a directory entry.
            models.CheckConstraint(
                condition=models.Q(practitioner__isnull=True) | ~models.Q(role="patient"),
                name="user_practitioner_is_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Django's all-permissions flag belongs to administrators only: demoting drops it.
        if self.role != Role.ADMIN:
            self.is_superuser = False
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_staff(self) -> bool:
        """Django admin access: the admin role only."""
        return self.role == Role.ADMIN

    @property
    def is_staff_role(self) -> bool:
        """Reception, clinicians and administrators: two-factor sign-in is required."""
        return self.role in STAFF_ROLES

    @property
    def books_for_others(self) -> bool:
        """Reception and clinicians: they book, move and cancel for any patient."""
        return self.role in {Role.RECEPTION, Role.CLINICIAN}

    @property
    def is_admin_role(self) -> bool:
        """True for administrators, who manage sites, staff, services and accounts."""
        return self.role == Role.ADMIN

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class FailedSignIn(models.Model):
    """One failed sign-in, kept briefly to lock out guessing per account and per address."""

    email = models.CharField(max_length=254, db_index=True)
    ip_address = models.GenericIPAddressField(null=True)
    network = models.CharField(
        max_length=50, blank=True, db_index=True, help_text="The address, or its /64 for IPv6."
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.email} from {self.ip_address} at {self.at:%Y-%m-%d %H:%M}"


class ThrottleEvent(models.Model):
    """One use of a rate-limited action (sign-up, resending a link) by a key such as an
    address; counted over a window and then forgotten."""

    scope = models.CharField(max_length=30)
    key = models.CharField(max_length=254)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=("scope", "key", "at"), name="throttle_scope_key_at")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} at {self.at:%Y-%m-%d %H:%M}"
