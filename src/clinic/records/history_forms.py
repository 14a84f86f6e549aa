"""Forms for the history, the family history and the drug history. They check the shape of
the input; the rules (age at onset within the patient's age, a side only for a limb, dates,
who and when) are the services' (records/history.py, family.py, drug_history.py), whose
refusals the views put beside the field they name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import AccessibleFormMixin
from clinic.records import drug_history, family
from clinic.records import history as history_rules
from clinic.records.encounter_forms import BAD_DATE, DATE_FORMATS, OUT_OF_DATE
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import DrugExposure, FamilyMember, History, Relationship
from clinic.records.models.history import COURSE_CHOICES, LIMB_SIDE_CHOICES, REGION_CHOICES
from clinic.scheduling.availability import local_today
from dystonia.findings import MAX_AGE_YEARS

TEXT_LIMIT = history_rules.HISTORY_TEXT_MAX_LENGTH
# "Decide from the name": the service asks dystonia.drugs whether it is a blocker.
DRB_AUTO, DRB_YES, DRB_NO = "auto", "yes", "no"
DRB_CHOICES = [
    (DRB_AUTO, "Decide from the name (antipsychotics and metoclopramide are flagged)"),
    (DRB_YES, "Yes: flag it as a dopamine-receptor blocker"),
    (DRB_NO, "No"),
]


def _text(label: str, *, limit: int, required: bool = False, rows: int = 3) -> forms.CharField:
    too_long = history_rules.TEXT_TOO_LONG.format(label=label, limit=limit)
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": rows, "spellcheck": "true"})
        if rows > 1
        else forms.TextInput(attrs={"spellcheck": "true"})
    )
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        widget=widget,
        error_messages={"max_length": too_long, "null_characters_not_allowed": NUL_CHARACTER},
    )


def _date(label: str, *, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": BAD_DATE, "required": drug_history.STOPPED_REQUIRED},
    )


class HistoryForm(AccessibleFormMixin, forms.Form):
    """The history of one encounter. Carries the history's ``updated_at`` as the writer saw
    it (empty when none was saved yet), so a save made elsewhere is noticed."""

    updated_at = forms.CharField(required=False, widget=forms.HiddenInput)
    presenting_complaint = _text("Presenting complaint", limit=TEXT_LIMIT, rows=4)
    age_at_onset_years = forms.IntegerField(
        label="Age at onset (years)",
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": history_rules.BAD_AGE,
            "min_value": history_rules.AGE_NEGATIVE,
        },
    )
    first_region = forms.ChoiceField(
        label="Body region where it began",
        required=False,
        choices=[("", "Not known"), *REGION_CHOICES],
        error_messages={"invalid_choice": history_rules.BAD_REGION},
    )
    first_side = forms.ChoiceField(
        label="Side, for a limb",
        required=False,
        choices=[("", "Not a limb"), *LIMB_SIDE_CHOICES],
        widget=forms.RadioSelect,
        help_text="Only when it began in an arm or a leg.",
        error_messages={"invalid_choice": history_rules.SIDE_REQUIRED},
    )
    spread = _text("Spread over time", limit=TEXT_LIMIT)
    course = forms.ChoiceField(
        label="Course",
        required=False,
        choices=[("", "Not known"), *COURSE_CHOICES],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": history_rules.BAD_COURSE},
    )
    variability = forms.MultipleChoiceField(
        label="Variability",
        required=False,
        choices=list(history_rules.VARIABILITY_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick all that apply.",
        error_messages={"invalid_choice": history_rules.BAD_VARIABILITY},
    )
    triggers = _text("Triggers", limit=TEXT_LIMIT)
    sensory_tricks = _text("Sensory tricks", limit=TEXT_LIMIT)
    better_with = _text("Better with", limit=TEXT_LIMIT)
    worse_with = _text("Worse with", limit=TEXT_LIMIT)

    @classmethod
    def for_history(cls, history: History | None) -> HistoryForm:
        """An unbound form showing the saved history (empty when there is none)."""
        if history is None:
            return cls(initial={"updated_at": ""})
        initial = {name: getattr(history, name) for name in cls.base_fields}
        initial["updated_at"] = history.updated_at.isoformat()
        return cls(initial=initial)

    def clean_updated_at(self) -> datetime | None:
        value = self.cleaned_data["updated_at"]
        if not value:
            return None
        try:
            seen = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(OUT_OF_DATE) from None
        if timezone.is_naive(seen):
            raise forms.ValidationError(OUT_OF_DATE)
        return seen

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # A hidden field's error has nowhere to show beside it: show it for the whole form.
        if "updated_at" in self.errors:
            self.add_error(None, self.errors.pop("updated_at"))
        return cleaned

    def details(self) -> history_rules.HistoryDetails:
        """The validated values; call after ``is_valid()``."""
        data = self.cleaned_data
        return history_rules.HistoryDetails(
            **{name: data[name] for name in self.fields if name != "updated_at"}
        )


class RelativeForm(AccessibleFormMixin, forms.Form):
    """A relative: who they are, their condition, whether it is a dystonia, its onset."""

    relationship = forms.ChoiceField(
        label="Relationship to the patient",
        choices=[("", "Choose a relative"), *Relationship.choices],
        error_messages={
            "required": family.BAD_RELATIONSHIP,
            "invalid_choice": family.BAD_RELATIONSHIP,
        },
    )
    condition = forms.CharField(
        label="Condition",
        max_length=family.CONDITION_MAX_LENGTH,
        help_text="For example cervical dystonia, tremor, Parkinson's disease.",
        error_messages={
            "required": family.CONDITION_REQUIRED,
            "max_length": history_rules.TEXT_TOO_LONG.format(
                label="The condition", limit=family.CONDITION_MAX_LENGTH
            ),
            "null_characters_not_allowed": NUL_CHARACTER,
        },
    )
    has_dystonia = forms.BooleanField(
        label="This condition is a dystonia",
        required=False,
        help_text="A relative with dystonia makes the family history positive.",
    )
    age_at_onset_years = forms.IntegerField(
        label="Age at onset (years)",
        required=False,
        min_value=0,
        max_value=MAX_AGE_YEARS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": family.BAD_AGE,
            "min_value": family.AGE_OUT_OF_RANGE,
            "max_value": family.AGE_OUT_OF_RANGE,
        },
    )
    notes = _text("Notes", limit=family.NOTES_MAX_LENGTH, rows=1)

    @classmethod
    def for_relative(cls, relative: FamilyMember) -> RelativeForm:
        return cls(initial={name: getattr(relative, name) for name in cls.base_fields})

    def details(self) -> family.RelativeDetails:
        """The validated values; call after ``is_valid()``."""
        return family.RelativeDetails(**self.cleaned_data)


class DrugForm(AccessibleFormMixin, forms.Form):
    """A medicine of the drug history, its dates and the dopamine-receptor-blocker flag."""

    drug = forms.CharField(
        label="Medicine",
        max_length=drug_history.DRUG_MAX_LENGTH,
        help_text="Its generic name, for example haloperidol, with the dose if useful.",
        error_messages={
            "required": drug_history.DRUG_REQUIRED,
            "max_length": history_rules.TEXT_TOO_LONG.format(
                label="The name", limit=drug_history.DRUG_MAX_LENGTH
            ),
            "null_characters_not_allowed": NUL_CHARACTER,
        },
    )
    dopamine_receptor_blocker = forms.ChoiceField(
        label="Dopamine-receptor blocker",
        choices=DRB_CHOICES,
        initial=DRB_AUTO,
        widget=forms.RadioSelect,
        help_text="A possible cause of dystonia. You can always set it either way.",
        error_messages={
            "required": drug_history.BAD_FLAG,
            "invalid_choice": drug_history.BAD_FLAG,
        },
    )
    started_on = _date("Started on", help_text="Leave blank if not known.")
    stopped_on = _date("Stopped on", help_text="Leave blank if still taken or not known.")
    notes = _text("Notes", limit=drug_history.NOTES_MAX_LENGTH, rows=1)

    @classmethod
    def for_drug(cls, drug: DrugExposure) -> DrugForm:
        initial: dict[str, Any] = {name: getattr(drug, name) for name in cls.base_fields}
        initial["dopamine_receptor_blocker"] = DRB_YES if drug.dopamine_receptor_blocker else DRB_NO
        return cls(initial=initial)

    def details(self) -> drug_history.DrugDetails:
        """The validated values; call after ``is_valid()``."""
        data = dict(self.cleaned_data)
        flag = {DRB_AUTO: None, DRB_YES: True, DRB_NO: False}[data["dopamine_receptor_blocker"]]
        data["dopamine_receptor_blocker"] = flag
        return drug_history.DrugDetails(**data)


class DrugStopForm(AccessibleFormMixin, forms.Form):
    """The day a medicine was stopped (today unless changed)."""

    stopped_on = _date("Stopped on", required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stopped_on"].initial = local_today()
