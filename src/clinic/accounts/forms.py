"""Admin forms for the email-based user model."""

from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from clinic.accounts.models import User


class UserCreateForm(BaseUserCreationForm):  # type: ignore[type-arg]
    """Create an account: email, name, role and a password."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserEditForm(UserChangeForm):  # type: ignore[type-arg]
    """Edit an account's details; the password is changed through its own form."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active")
