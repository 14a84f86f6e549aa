"""Problem-list and timeline forms. They check the shape of the input; the rules (dates
against birth and today, what may change, who) are the services' (records/diagnoses.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from clinic.forms import AccessibleFormMixin
from clinic.records import diagnoses, timeline
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import ClinicalStatus, DiagnosisSide, VerificationStatus
from clinic.scheduling.availability import local_today

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
BAD_DATE = diagnoses.BAD_DATE
BAD_KIND = "Choose kinds of event from the list."
DATE_OUT_OF_RANGE = f"Enter a date between {timeline.EARLIEST:%Y} and {timeline.LATEST:%Y}."
FROM_AFTER_TO = "The first date must not be after the last date."
SIDE_CHOICES = [
    (DiagnosisSide.LEFT.value, "Left"),
    (DiagnosisSide.RIGHT.value, "Right"),
    (DiagnosisSide.BILATERAL.value, "Both sides (bilateral)"),
    (DiagnosisSide.UNSPECIFIED.value, "Not specified"),
]


def _date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        help_text=help_text or "For example 31/03/2026.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": BAD_DATE, "required": BAD_DATE},
    )


def _verification_field(choices: list[tuple[str, str]]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Verification",
        choices=choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": diagnoses.BAD_VERIFICATION_STATUS,
            "invalid_choice": diagnoses.BAD_VERIFICATION_STATUS,
        },
    )


_NEW_VERIFICATION_CHOICES = [(v.value, v.label) for v in diagnoses.NEW_VERIFICATION_STATUSES]


class _NewDiagnosisForm(AccessibleFormMixin, forms.Form):
    """When it was diagnosed, and whether it is confirmed yet."""

    diagnosed_on = _date_field("Date of diagnosis")
    verification_status = _verification_field(_NEW_VERIFICATION_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["diagnosed_on"].initial = local_today()
        self.fields["verification_status"].initial = VerificationStatus.CONFIRMED


class HemifacialSpasmForm(_NewDiagnosisForm):
    """Hemifacial spasm, with its side."""

    side = forms.ChoiceField(
        label="Side",
        choices=SIDE_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": diagnoses.BAD_SIDE},
    )
    field_order = ("side", "diagnosed_on", "verification_status")


class OtherDiagnosisForm(_NewDiagnosisForm):
    """Another diagnosis, in the clinician's words."""

    label = forms.CharField(
        label="Diagnosis",
        max_length=diagnoses.LABEL_MAX_LENGTH,
        help_text=f"For example essential tremor. At most {diagnoses.LABEL_MAX_LENGTH} "
        "characters. It is recorded without codes.",
        error_messages={
            "required": diagnoses.LABEL_REQUIRED,
            "max_length": diagnoses.LABEL_TOO_LONG,
            "null_characters_not_allowed": NUL_CHARACTER,
        },
    )
    field_order = ("label", "diagnosed_on", "verification_status")


class FromReviewForm(_NewDiagnosisForm):
    """A decided classification onto the problem list: the date defaults to the encounter's."""

    def __init__(self, *args: Any, encounter_day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["diagnosed_on"].initial = encounter_day


class DiagnosisStatusForm(AccessibleFormMixin, forms.Form):
    """A diagnosis's clinical and verification status, and when it resolved."""

    clinical_status = forms.ChoiceField(
        label="Clinical status",
        choices=ClinicalStatus.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": diagnoses.BAD_CLINICAL_STATUS,
            "invalid_choice": diagnoses.BAD_CLINICAL_STATUS,
        },
    )
    verification_status = _verification_field(VerificationStatus.choices)
    resolved_on = _date_field(
        "Date it resolved",
        required=False,
        help_text="Only for a resolved diagnosis; for example 31/03/2026.",
    )


class TimelineFilterForm(AccessibleFormMixin, forms.Form):
    """Which kinds of event, between which dates (all of them when left empty)."""

    kinds = forms.MultipleChoiceField(
        label="Show",
        required=False,
        choices=timeline.kind_choices,  # evaluated per form: apps register their sources
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": BAD_KIND, "invalid_list": BAD_KIND},
    )
    date_from = _date_field("From", required=False)
    date_to = _date_field("To", required=False)

    def _in_range(self, name: str) -> date | None:
        value: date | None = self.cleaned_data.get(name)
        if value is not None and not timeline.EARLIEST <= value <= timeline.LATEST:
            raise forms.ValidationError(DATE_OUT_OF_RANGE)
        return value

    def clean_date_from(self) -> date | None:
        return self._in_range("date_from")

    def clean_date_to(self) -> date | None:
        return self._in_range("date_to")

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start is not None and end is not None and start > end:
            self.add_error("date_to", FROM_AFTER_TO)
        return data

    def kinds_asked(self) -> frozenset[timeline.EventKind] | None:
        """The kinds ticked, or None (all) when none is; call after ``is_valid()``."""
        ticked = self.cleaned_data.get("kinds") or []
        return frozenset(timeline.EventKind(kind) for kind in ticked) or None

    def window(self) -> timeline.Window:
        data = self.cleaned_data
        return timeline.Window(date_from=data.get("date_from"), date_to=data.get("date_to"))
