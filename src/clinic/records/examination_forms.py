"""Examination forms: the examination by body site (one group of fields per site, the
equivalent of the body diagram, which works without JavaScript) and the decision on a
classification. They check the shape of the input; the rules are the services'
(records/examination.py, records/classification.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import AccessibleFormMixin
from clinic.records.classification import (
    DISTRIBUTION_REQUIRED,
    OVERRIDE_REASON_MAX_LENGTH,
    REASON_REQUIRED,
    REASON_TOO_LONG,
    STATEMENT_MAX_LENGTH,
    STATEMENT_TOO_LONG,
)
from clinic.records.encounter_forms import OUT_OF_DATE
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.examination import (
    BAD_FEATURE,
    DETAILS_WITHOUT_INVOLVED,
    EXAMINATION_NOTES_MAX_LENGTH,
    FEATURE_LABELS,
    MOVEMENT_TOO_LONG,
    NOTES_TOO_LONG,
    POSTURE_TOO_LONG,
    SITES,
    Site,
    SiteFinding,
)
from clinic.records.models import Examination, RegionFinding
from clinic.records.models.examination import DISTRIBUTION_CHOICES, FINDING_TEXT_MAX_LENGTH

NEW = "new"
# The code of the validator that every CharField has (django.core.validators).
NUL_CODE = "null_characters_not_allowed"
DETAIL_NAMES = ("posture", "movement", "tremor", "task_specific")


def _text_field(label: str, too_long: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=FINDING_TEXT_MAX_LENGTH,
        error_messages={"max_length": too_long, NUL_CODE: NUL_CHARACTER},
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": FINDING_TEXT_MAX_LENGTH}),
    )


@dataclass(frozen=True)
class SiteFields:
    """One site's bound fields, for the template's fieldset."""

    site: Site
    involved: forms.BoundField
    posture: forms.BoundField
    movement: forms.BoundField
    tremor: forms.BoundField
    task_specific: forms.BoundField

    @property
    def checked(self) -> bool:
        return bool(self.involved.value())

    @property
    def errors(self) -> list[str]:
        return [str(error) for error in self.involved.errors]


class ExaminationForm(AccessibleFormMixin, forms.Form):
    """The examination: for each body site, whether it is involved and what was seen; the
    associated signs; notes. ``version`` carries the saved examination's ``updated_at``
    ("new" when there was none), so a save made elsewhere meanwhile is not overwritten."""

    version = forms.CharField(widget=forms.HiddenInput, error_messages={"required": OUT_OF_DATE})
    associated_features = forms.MultipleChoiceField(
        label="Associated signs",
        required=False,
        choices=list(FEATURE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": BAD_FEATURE, "invalid_list": BAD_FEATURE},
    )
    notes = forms.CharField(
        label="Examination notes",
        required=False,
        max_length=EXAMINATION_NOTES_MAX_LENGTH,
        error_messages={"max_length": NOTES_TOO_LONG, NUL_CODE: NUL_CHARACTER},
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "true"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for site in SITES:
            self.fields[f"{site.key}_involved"] = forms.BooleanField(
                label=f"{site.label}: involved", required=False
            )
            self.fields[f"{site.key}_posture"] = _text_field("Posture", POSTURE_TOO_LONG)
            self.fields[f"{site.key}_movement"] = _text_field("Movement", MOVEMENT_TOO_LONG)
            self.fields[f"{site.key}_tremor"] = forms.BooleanField(label="Tremor", required=False)
            self.fields[f"{site.key}_task_specific"] = forms.BooleanField(
                label="Task-specific", required=False
            )

    @classmethod
    def for_examination(cls, examination: Examination | None) -> ExaminationForm:
        """An unbound form showing the saved examination (or an empty one)."""
        initial: dict[str, Any] = {"version": NEW}
        if examination is not None:
            initial["version"] = examination.updated_at.isoformat()
            initial["associated_features"] = examination.associated_features
            initial["notes"] = examination.notes
            finding: RegionFinding
            for finding in examination.regions.all():
                key = f"{finding.region}_{finding.side}" if finding.side else finding.region
                initial[f"{key}_involved"] = True
                for name in DETAIL_NAMES:
                    initial[f"{key}_{name}"] = getattr(finding, name)
        return cls(initial=initial)

    def site_fields(self) -> list[SiteFields]:
        return [
            SiteFields(
                site=site,
                involved=self[f"{site.key}_involved"],
                posture=self[f"{site.key}_posture"],
                movement=self[f"{site.key}_movement"],
                tremor=self[f"{site.key}_tremor"],
                task_specific=self[f"{site.key}_task_specific"],
            )
            for site in SITES
        ]

    def clean_version(self) -> datetime | None:
        value = self.cleaned_data["version"]
        if value == NEW:
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
        if "version" in self.errors:  # a hidden field's error shows for the whole form
            self.add_error(None, self.errors.pop("version"))
        for site in SITES:
            details = [cleaned.get(f"{site.key}_{name}") for name in DETAIL_NAMES]
            # Nothing typed is dropped silently: details of a site not ticked are refused.
            if not cleaned.get(f"{site.key}_involved") and any(details):
                self.add_error(f"{site.key}_involved", DETAILS_WITHOUT_INVOLVED)
        return cleaned

    def sites(self) -> list[SiteFinding]:
        """The involved sites as entered (after ``is_valid()``)."""
        data = self.cleaned_data
        return [
            SiteFinding(
                region=site.region,
                side=site.side,
                posture=data.get(f"{site.key}_posture", ""),
                movement=data.get(f"{site.key}_movement", ""),
                tremor=bool(data.get(f"{site.key}_tremor")),
                task_specific=bool(data.get(f"{site.key}_task_specific")),
            )
            for site in SITES
            if data.get(f"{site.key}_involved")
        ]


class DecisionForm(AccessibleFormMixin, forms.Form):
    """Confirm the core's classification, or override it with a distribution from the list,
    your own classification in words, and the reason."""

    decision = forms.ChoiceField(
        choices=[("confirm", "Confirm"), ("override", "Override")],
        widget=forms.HiddenInput,
        error_messages={"required": OUT_OF_DATE, "invalid_choice": OUT_OF_DATE},
    )
    distribution = forms.ChoiceField(
        label="Distribution in your judgement",
        required=False,
        choices=DISTRIBUTION_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": DISTRIBUTION_REQUIRED},
    )
    statement = forms.CharField(
        label="Your classification in words",
        required=False,
        max_length=STATEMENT_MAX_LENGTH,
        help_text="For example the form you judge it to be.",
        error_messages={"max_length": STATEMENT_TOO_LONG, NUL_CODE: NUL_CHARACTER},
    )
    reason = forms.CharField(
        label="Reason for overriding",
        required=False,
        max_length=OVERRIDE_REASON_MAX_LENGTH,
        help_text="Required to override. It is kept with the core's classification.",
        error_messages={"max_length": REASON_TOO_LONG, NUL_CODE: NUL_CHARACTER},
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "decision" in self.errors:
            self.add_error(None, self.errors.pop("decision"))
        if cleaned.get("decision") == "override":
            if not cleaned.get("distribution") and "distribution" not in self.errors:
                self.add_error("distribution", DISTRIBUTION_REQUIRED)
            if not (cleaned.get("reason") or "").strip() and "reason" not in self.errors:
                self.add_error("reason", REASON_REQUIRED)
        return cleaned
