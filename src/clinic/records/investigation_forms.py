"""Investigation forms: order one, record its result (the fields of its kind only), cancel
it, order from the work-up advice. They check the shape of the input; the rules (units,
ranges, dates against the order, birth and today, what each kind needs) are the services'
(records/investigation_rules.py, investigations.py), whose refusals the views put beside the
field they name."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from clinic.forms import AccessibleFormMixin
from clinic.records import investigation_rules as rules
from clinic.records.encounter_forms import DATE_FORMATS
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.investigation_rules import OrderDetails, ResultDetails
from clinic.records.models import (
    Encounter,
    InvestigationKind,
    LevodopaResponse,
    VariantClassification,
)
from clinic.records.models.investigation import LAB_KINDS, REPORT_KINDS
from clinic.scheduling.availability import clinic_tz, local_today
from dystonia.labs import Analyte, accepted_units

RETURN_TO = ("patient", "investigations")
KF_CHOICES = [("yes", "Present"), ("no", "Absent")]


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        help_text=help_text or "For example 31/03/2026.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": rules.BAD_DATE, "required": rules.BAD_DATE},
    )


def _text(label: str, *, limit: int, rows: int = 1, help_text: str = "") -> forms.CharField:
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": rows, "spellcheck": "true"})
        if rows > 1
        else forms.TextInput()
    )
    return forms.CharField(
        label=label,
        required=False,
        max_length=limit,
        help_text=help_text,
        widget=widget,
        error_messages={
            "max_length": rules.TEXT_TOO_LONG.format(label=label, limit=limit),
            "null_characters_not_allowed": NUL_CHARACTER,
        },
    )


def _number(label: str, *, bad: str, help_text: str = "") -> forms.FloatField:
    return forms.FloatField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"invalid": bad},
    )


def _whole(label: str, *, bad: str, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"invalid": bad},
    )


def _choice(label: str, choices: list[tuple[str, str]], *, bad: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": bad},
    )


class OrderForm(AccessibleFormMixin, forms.Form):
    """An investigation to order, when, and the visit it was ordered at (optional)."""

    kind = forms.ChoiceField(
        label="Investigation",
        choices=[("", "Choose an investigation"), *InvestigationKind.choices],
        error_messages={"required": rules.BAD_KIND, "invalid_choice": rules.BAD_KIND},
    )
    name = _text(
        "What exactly",
        limit=rules.NAME_MAX_LENGTH,
        help_text="For example 'MRI brain with susceptibility-weighted imaging'. Required for "
        "another investigation.",
    )
    ordered_on = _date("Ordered on")
    encounter = forms.ChoiceField(
        label="Ordered at the encounter", required=False, choices=[("", "No encounter")]
    )

    def __init__(self, *args: Any, encounters: list[Encounter], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ordered_on"].initial = local_today()
        choice = self.fields["encounter"]
        assert isinstance(choice, forms.ChoiceField)  # noqa: S101 - narrows the type
        choice.choices = [
            ("", "No encounter"),
            *(
                (
                    str(e.pk),
                    f"{e.get_kind_display()}, {e.started_at.astimezone(clinic_tz()):%d/%m/%Y}",
                )
                for e in encounters
            ),
        ]
        choice.error_messages["invalid_choice"] = "Choose an encounter of this patient."

    def details(self) -> OrderDetails:
        """The validated values; call after ``is_valid()``."""
        data = self.cleaned_data
        encounter = data.get("encounter")
        return OrderDetails(
            kind=data["kind"],
            ordered_on=data["ordered_on"],
            name=data.get("name", ""),
            encounter_id=int(encounter) if encounter else None,
        )


class ResultForm(AccessibleFormMixin, forms.Form):
    """A result, with only the fields of the investigation's kind."""

    resulted_on = _date("Date of the result")
    value = _number("Result", bad=rules.BAD_NUMBER, help_text="As on the report, for example 0.25.")
    unit = forms.ChoiceField(label="Unit", required=False)
    reference_low = _number(
        "Laboratory's range: low", bad=rules.BAD_BOUND, help_text="In the same unit; optional."
    )
    reference_high = _number(
        "Laboratory's range: high", bad=rules.BAD_BOUND, help_text="In the same unit; optional."
    )
    kf_rings = _choice("Kayser-Fleischer rings", KF_CHOICES, bad=rules.KF_REQUIRED)
    gene = _text("Gene", limit=rules.GENE_MAX_LENGTH, help_text="Its symbol, for example ATP7B.")
    variant = _text(
        "Variant (HGVS)",
        limit=rules.VARIANT_MAX_LENGTH,
        help_text="For example NM_000053.4:c.3207C>A. Leave empty if none was found.",
    )
    variant_classification = forms.ChoiceField(
        label="Classification of the variant",
        required=False,
        choices=[("", "Choose a classification"), *VariantClassification.choices],
        error_messages={"invalid_choice": rules.BAD_CLASSIFICATION},
    )
    levodopa_dose_mg_per_day = _whole(
        "Levodopa dose (mg a day)", bad=rules.BAD_DOSE, help_text="For example 300."
    )
    levodopa_duration_days = _whole(
        "Duration of the trial (days)", bad=rules.BAD_DURATION, help_text="For example 28."
    )
    levodopa_response = _choice("Response", list(LevodopaResponse.choices), bad=rules.BAD_RESPONSE)
    report = _text("Report", limit=rules.REPORT_MAX_LENGTH, rows=6)

    KIND_FIELDS: dict[str, tuple[str, ...]] = {
        **dict.fromkeys(LAB_KINDS, ("value", "unit", "reference_low", "reference_high")),
        InvestigationKind.SLIT_LAMP: ("kf_rings",),
        InvestigationKind.GENETIC_PANEL: ("gene", "variant", "variant_classification"),
        InvestigationKind.LEVODOPA_TRIAL: (
            "levodopa_dose_mg_per_day",
            "levodopa_duration_days",
            "levodopa_response",
        ),
    }

    def __init__(self, *args: Any, kind: str, ordered_on: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        keep = {"resulted_on", "report", *self.KIND_FIELDS.get(kind, ())}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self.fields["resulted_on"].initial = local_today()
        self.fields[
            "resulted_on"
        ].help_text = (
            f"Not before the order ({ordered_on.day} {ordered_on:%B %Y}); for example 31/03/2026."
        )
        if kind in LAB_KINDS:
            units = [(u.value, u.value) for u in accepted_units(Analyte(kind))]
            unit = self.fields["unit"]
            assert isinstance(unit, forms.ChoiceField)  # noqa: S101 - narrows the type
            unit.choices = [("", "Choose the unit"), *units]
            unit.error_messages["invalid_choice"] = rules.UNKNOWN_UNIT.format(
                analyte=Analyte(kind).label, units=", ".join(u for u, _ in units)
            )
        if kind not in REPORT_KINDS:
            self.fields["report"].label = "Comments"
            self.fields["report"].widget.attrs["rows"] = 3

    def details(self) -> ResultDetails:
        """The validated values; call after ``is_valid()``."""
        data: dict[str, Any] = dict(self.cleaned_data)
        if "kf_rings" in data:
            data["kf_rings"] = {"yes": True, "no": False}.get(data["kf_rings"])
        return ResultDetails(**{key: value for key, value in data.items() if value is not None})


class CancelForm(AccessibleFormMixin, forms.Form):
    """Why an ordered investigation is cancelled."""

    reason = forms.CharField(
        label="Reason",
        max_length=rules.REASON_MAX_LENGTH,
        help_text="For example: ordered twice, sample lost, done elsewhere.",
        error_messages={
            "required": "Give the reason for cancelling it.",
            "max_length": rules.TEXT_TOO_LONG.format(
                label="The reason", limit=rules.REASON_MAX_LENGTH
            ),
            "null_characters_not_allowed": NUL_CHARACTER,
        },
    )


class FromAdviceForm(forms.Form):
    """The "Order" button of one investigation the work-up advice lists."""

    item = forms.CharField(max_length=40)
    key = forms.CharField(max_length=240)
    return_to = forms.ChoiceField(choices=[(v, v) for v in RETURN_TO], required=False)


class AttachmentForm(forms.Form):
    """A report to attach; what it may be (type by content, size) is the service's to say."""

    report = forms.FileField(
        label="Report (PDF, PNG or JPEG)",
        required=False,
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
        help_text="A PDF, or a photo or scan of the report.",
    )
