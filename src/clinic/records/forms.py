"""Patient forms: registration (with the look-alike confirmation) and demographics, with NHS
number and date validation."""

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
DATE_IN_FUTURE = "{what} cannot be in the future."
DATE_BEFORE_BIRTH = "{what} cannot be before the date of birth."
# The optional dates of the record, with what messages call them.
RECORD_DATES = {
    "date_of_death": "The date of death",
    "discharged_on": "The discharge date",
    "consent_recorded_on": "The date consent was recorded",
}
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]
CONFIRM_NOT_DUPLICATE = (
    "Tick “None of these is the same person” to register a new patient, or open "
    "the matching record instead."
)


def validate_date_of_birth(value: date) -> None:
    """Not in the future, and not more than MAX_AGE_YEARS ago."""
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError(DOB_IN_FUTURE)
    if value.year < today.year - MAX_AGE_YEARS:
        raise forms.ValidationError(DOB_TOO_OLD)


def record_date_problems(
    *, date_of_birth: date, values: dict[str, date | None], today: date | None = None
) -> dict[str, str]:
    """The message for each of RECORD_DATES in ``values`` that is in the future or before
    the date of birth (an empty dict when all are fine)."""
    today = today or timezone.localdate()
    problems = {}
    for name, what in RECORD_DATES.items():
        value = values.get(name)
        if value is None:
            continue
        if value > today:
            problems[name] = DATE_IN_FUTURE.format(what=what)
        elif value < date_of_birth:
            problems[name] = DATE_BEFORE_BIRTH.format(what=what)
    return problems


def _optional_date(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        help_text="For example 31/03/2024.",
    )


# The form in groups, each under a legend: (legend, field names).
FIELDSETS = (
    ("Identity", ("given_name", "family_name", "date_of_birth", "nhs_number")),
    ("Contact details", ("email", "phone", "address", "postcode")),
    ("GP", ("gp_name", "gp_practice", "gp_address", "gp_email")),
    (
        "Referrer",
        ("referrer_name", "referrer_organisation", "referrer_address", "referrer_email"),
    ),
    (
        "Consent",
        (
            "consents_to_email",
            "consents_to_gp_letters",
            "consents_to_research_contact",
            "consent_recorded_on",
        ),
    ),
    ("Care", ("date_of_death", "discharged_on")),
)


class PatientForm(AccessibleFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    """Demographics, identifiers, contact details, GP, referrer, consent and care dates."""

    date_of_birth = forms.DateField(
        label="Date of birth",
        help_text="For example 31/03/1980.",
        input_formats=DATE_FORMATS,
        validators=[validate_date_of_birth],
    )
    consent_recorded_on = _optional_date("Date consent was recorded")
    date_of_death = _optional_date("Date of death")
    discharged_on = _optional_date("Discharged from the unit's care on")
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
            "gp_email",
            "referrer_name",
            "referrer_organisation",
            "referrer_address",
            "referrer_email",
            "consents_to_email",
            "consents_to_gp_letters",
            "consents_to_research_contact",
            "consent_recorded_on",
            "date_of_death",
            "discharged_on",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            # A tick box's hint sits after its label; tie it to the box for screen readers.
            if isinstance(field.widget, forms.CheckboxInput) and field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_helptext"

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields in their groups, for the template."""
        return [(legend, [self[name] for name in names]) for legend, names in FIELDSETS]

    def clean_nhs_number(self) -> str | None:
        value: str = self.cleaned_data.get("nhs_number") or ""
        if not value.strip():
            return None
        try:
            return nhs_number_normalise(value.strip())
        except InvalidInput:
            raise forms.ValidationError(BAD_NHS_NUMBER) from None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        born = data.get("date_of_birth")
        if born is not None:
            problems = record_date_problems(date_of_birth=born, values=data)
            for name, message in problems.items():
                self.add_error(name, message)
        return data

    def validate_unique(self) -> None:
        # Uniqueness is the service's to check, with its own message; the database backs it.
        return

    def details(self) -> PatientDetails:
        """The validated values; call after ``is_valid()``."""
        data: dict[str, Any] = self.cleaned_data
        return PatientDetails(**{name: data[name] for name in self.Meta.fields})


class PatientCreateForm(PatientForm):
    """Registration: the details, and the confirmation asked for when existing patients look
    alike. ``checked_for`` carries the name and date of birth the look-alikes were found
    for, so a tick given for one list never confirms another."""

    not_duplicate = forms.BooleanField(label="None of these is the same person", required=False)
    checked_for = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)

    def _fingerprint(self) -> str:
        data = self.cleaned_data
        return "|".join(
            (data["given_name"], data["family_name"], data["date_of_birth"].isoformat())
        )

    def confirmed(self) -> bool:
        """Did the user tick the box for these very details? Call after ``is_valid()``."""
        data = self.cleaned_data
        return bool(data.get("not_duplicate")) and data.get("checked_for") == self._fingerprint()

    def asking_to_confirm(self) -> PatientCreateForm:
        """The form again, to show with the look-alikes: the box unticked and tied to these
        details; with an error if the user had already seen them and not ticked it."""
        seen_before = self.cleaned_data.get("checked_for") == self._fingerprint()
        data = {name: self.data.get(name) for name in self.data if name != "not_duplicate"}
        data["checked_for"] = self._fingerprint()
        again = PatientCreateForm(data)
        again.is_valid()
        if seen_before:
            again.add_error("not_duplicate", CONFIRM_NOT_DUPLICATE)
        return again
