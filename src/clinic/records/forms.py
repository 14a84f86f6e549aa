"""Patient forms: registration and demographics, with NHS number validation."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import AccessibleFormMixin
from clinic.records.models import Patient
from clinic.records.services import PatientDetails
from dystonia.errors import InvalidInput
from dystonia.identifiers import nhs_number_normalise

# An input bound, as in the core: no verified human age exceeds it.
MAX_AGE_YEARS = 130
DOB_IN_FUTURE = "The date of birth cannot be in the future."
DOB_TOO_OLD = f"The date of birth cannot be more than {MAX_AGE_YEARS} years ago."
BAD_NHS_NUMBER = "Enter a valid NHS number: 10 digits, such as 943 476 5919."


def validate_date_of_birth(value: date) -> None:
    """Not in the future, and not more than MAX_AGE_YEARS ago."""
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError(DOB_IN_FUTURE)
    if value.year < today.year - MAX_AGE_YEARS:
        raise forms.ValidationError(DOB_TOO_OLD)


class PatientForm(AccessibleFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    """Demographics, identifiers, contact details and GP."""

    date_of_birth = forms.DateField(
        label="Date of birth",
        help_text="For example 31/03/1980.",
        input_formats=["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"],
        validators=[validate_date_of_birth],
    )
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=14,
        help_text="10 digits; spaces are fine.",
    )

    class Meta:
        model = Patient
        fields = (
            "given_name",
            "family_name",
            "date_of_birth",
            "nhs_number",
            "email",
            "phone",
            "address",
            "postcode",
            "gp_name",
            "gp_practice",
            "gp_address",
        )

    def clean_nhs_number(self) -> str | None:
        value: str = self.cleaned_data.get("nhs_number") or ""
        if not value.strip():
            return None
        try:
            return nhs_number_normalise(value.strip())
        except InvalidInput:
            raise forms.ValidationError(BAD_NHS_NUMBER) from None

    def validate_unique(self) -> None:
        # Uniqueness is the service's to check, with its own message; the database backs it.
        return

    def details(self) -> PatientDetails:
        """The validated values; call after ``is_valid()``."""
        data: dict[str, Any] = self.cleaned_data
        return PatientDetails(**{name: data[name] for name in self.Meta.fields})
