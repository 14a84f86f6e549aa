"""Account forms: sign up, sign in, two-factor codes, and the admin's account forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from clinic.accounts.lockout import sign_in_failure_record, sign_in_lockout, sign_in_success_record
from clinic.accounts.models import Role, User
from clinic.forms import AccessibleFormMixin
from clinic.records.forms import validate_date_of_birth

NAME_MAX_LENGTH = 100
PASSWORD_MAX_LENGTH = 128
WRONG_CREDENTIALS = (
    "That email address and password do not match an account. Check both and try again."
)
NOT_VERIFIED = (
    "Please confirm your email address first: follow the link we sent you. "
    "You can ask for a new link below."
)
PASSWORDS_DIFFER = "The two passwords are not the same."
BAD_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."


class UserCreateForm(BaseUserCreationForm):  # type: ignore[type-arg]
    """Create an account in the admin: email, name, role and a password."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "practitioner")

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email


ROLE_CHANGE_REFUSED = (
    "A patient account stays a patient account, and a staff account a staff account: create "
    "a new account instead."
)


class UserEditForm(UserChangeForm):  # type: ignore[type-arg]
    """Edit an account in the admin; the password is changed through its own form."""

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "practitioner", "is_active", "email_verified")

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def clean_role(self) -> str:
        role = str(self.cleaned_data["role"])
        before = self.instance.role
        if before and (before == Role.PATIENT) != (role == Role.PATIENT):
            raise forms.ValidationError(ROLE_CHANGE_REFUSED)
        return role


class SignUpForm(AccessibleFormMixin, forms.Form):
    """A patient creates an account."""

    given_name = forms.CharField(label="First name", max_length=NAME_MAX_LENGTH)
    family_name = forms.CharField(label="Last name", max_length=NAME_MAX_LENGTH)
    date_of_birth = forms.DateField(
        label="Date of birth",
        help_text="For example 31/03/1980.",
        input_formats=["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"],
        validators=[validate_date_of_birth],
    )
    email = forms.EmailField(label="Email address", max_length=254)
    password1 = forms.CharField(
        label="Password",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password or only numbers.",
    )
    password2 = forms.CharField(
        label="Password again",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", PASSWORDS_DIFFER)
        elif first:
            candidate = User(
                email=data.get("email", ""),
                full_name=f"{data.get('given_name', '')} {data.get('family_name', '')}",
            )
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class SignInForm(AccessibleFormMixin, forms.Form):
    """Email and password, with lockout after repeated failures."""

    email = forms.EmailField(label="Email address", max_length=254)
    password = forms.CharField(
        label="Password",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, request: Any, ip_address: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.ip_address = ip_address
        self.user: User | None = None
        self.unverified_user: User | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email, password = data.get("email"), data.get("password")
        if not email or not password:
            return data
        lockout = sign_in_lockout(email=email, ip_address=self.ip_address)
        if lockout is not None:
            raise forms.ValidationError(lockout.message, code="locked")
        user = authenticate(self.request, email=email.lower(), password=password)
        if user is None:
            sign_in_failure_record(email=email, ip_address=self.ip_address)
            raise forms.ValidationError(WRONG_CREDENTIALS, code="invalid")
        sign_in_success_record(email=email)
        if not user.email_verified:
            self.unverified_user = user
            raise forms.ValidationError(NOT_VERIFIED, code="unverified")
        self.user = user
        return data


class ResendVerificationForm(AccessibleFormMixin, forms.Form):
    """The address to send a new confirmation link to."""

    email = forms.EmailField(label="Email address", max_length=254)


class TotpCodeForm(AccessibleFormMixin, forms.Form):
    """The 6-digit code from an authenticator app."""

    code = forms.CharField(
        label="6-digit code",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
        ),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if not (code.isascii() and code.isdigit()):
            raise forms.ValidationError(BAD_CODE)
        return code
