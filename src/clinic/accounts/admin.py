"""Accounts in the admin, for administrators: every change is audited; patient accounts
keep their role and their password (only the patient, by the reset email, changes it)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from clinic.accounts.forms import UserCreateForm, UserEditForm
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditAction, AuditChannel, AuditOutcome
from clinic.audit.services import AuditContext, audit_record


def _audit_account(
    request: HttpRequest, user: User, action: AuditAction, detail: str, *, allowed: bool = True
) -> None:
    audit_record(
        context=AuditContext.from_request(request, channel=AuditChannel.WEB),
        action=action,
        outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.REFUSED,
        object_type="account",
        object_id=user.pk or "",
        patient=getattr(user, "patient_record", None),
        detail=detail,
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    """Accounts listed by email and role."""

    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "is_active", "email_verified", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Person",
            {"fields": ("full_name", "role", "practitioner", "is_active", "email_verified")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "role", "practitioner", "password1", "password2"),
            },
        ),
    )
    readonly_fields: ClassVar = ("last_login", "date_joined")
    filter_horizontal = ()
    list_select_related = ("practitioner",)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = ", ".join(form.changed_data) or "nothing"
        action = AuditAction.UPDATE if change else AuditAction.CREATE
        _audit_account(
            request, obj, action, f"account {'changed' if change else 'created'}: {changed}"
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        user = self.get_object(request, id)
        if user is not None and user.role == Role.PATIENT:
            _audit_account(
                request, user, AuditAction.UPDATE, "password change refused", allowed=False
            )
            raise PermissionDenied
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302 and user is not None:
            _audit_account(request, user, AuditAction.UPDATE, "password set by an administrator")
        return response
