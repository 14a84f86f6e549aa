"""Forms for medication: the medicine (with its first dose when it is prescribed), stopping
it, and a dose step."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import AccessibleFormMixin
from clinic.records.history_forms import DRB_AUTO, DRB_CHOICES, DRB_NO, DRB_YES
from clinic.records.models import Encounter
from clinic.treatment import medication as rules
from clinic.treatment.form_fields import choice, day, encounter_choices, encounter_id, number, text
from clinic.treatment.models import DoseUnit, Effect, Medication, StopReason
from clinic.treatment.models.medication import (
    DRUG_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    PURPOSE_MAX_LENGTH,
)

DOSE_FIELDS = ("dose", "unit", "times_per_day")


def _dose_fields(form: forms.Form, *, required: bool) -> None:
    form.fields["dose"] = number(
        "Dose", required=required, help_text="The amount each time, for example 2 or 0.5."
    )
    form.fields["unit"] = choice("Unit", DoseUnit.choices, required=required, radio=True)
    form.fields["times_per_day"] = number(
        "Times a day", required=required, whole=True, help_text="For example 3."
    )


class MedicationForm(AccessibleFormMixin, forms.Form):
    """A medicine; when prescribing (``with_dose``), its first dose too (optional)."""

    drug = text(
        "Medicine",
        limit=DRUG_MAX_LENGTH,
        required=True,
        rows=1,
        help_text="Its generic name, for example trihexyphenidyl.",
    )
    dopamine_receptor_blocker = choice(
        "Dopamine-receptor blocker",
        DRB_CHOICES,
        radio=True,
        initial=DRB_AUTO,
        help_text="A possible cause of dystonia. You can always set it either way.",
    )
    purpose = text("Purpose or indication", limit=PURPOSE_MAX_LENGTH, rows=1)
    started_on = day("Started on")
    stopped_on = day("Stopped on", required=False, help_text="Leave blank while it is taken.")
    stop_reason = choice(
        "Reason stopped", [("", "Not stopped"), *StopReason.choices], required=False
    )
    effect = choice("Effect", Effect.choices, radio=True, initial=Effect.NOT_ASSESSED)
    side_effects = text("Side effects", limit=rules.SIDE_EFFECTS_MAX_LENGTH)
    encounter = choice("Encounter", [], required=False)

    def __init__(
        self, *args: Any, encounters: list[Encounter], with_dose: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["encounter"].choices = encounter_choices(encounters)
        self.with_dose = with_dose
        if with_dose:
            _dose_fields(self, required=False)

    @classmethod
    def for_medication(
        cls, medication: Medication, *, encounters: list[Encounter]
    ) -> MedicationForm:
        initial: dict[str, Any] = {name: getattr(medication, name) for name in cls.base_fields}
        initial["dopamine_receptor_blocker"] = (
            DRB_YES if medication.dopamine_receptor_blocker else DRB_NO
        )
        initial["encounter"] = str(medication.encounter_id or "")
        return cls(initial=initial, encounters=encounters)

    def details(self) -> rules.MedicationDetails:
        data = self.cleaned_data
        flag = {DRB_AUTO: None, DRB_YES: True, DRB_NO: False}[data["dopamine_receptor_blocker"]]
        return rules.MedicationDetails(
            drug=data["drug"],
            dopamine_receptor_blocker=flag,
            purpose=data["purpose"],
            started_on=data["started_on"],
            stopped_on=data["stopped_on"],
            stop_reason=data["stop_reason"],
            effect=data["effect"],
            side_effects=data["side_effects"],
            encounter=encounter_id(data["encounter"]),
        )

    def first_dose(self) -> rules.DoseDetails | None:
        """The first dose step, when any of its fields was filled in."""
        data = self.cleaned_data
        if not self.with_dose or all(data.get(name) in (None, "") for name in DOSE_FIELDS):
            return None
        return rules.DoseDetails(
            dose=data["dose"], unit=data["unit"], times_per_day=data["times_per_day"]
        )


class MedicationStopForm(AccessibleFormMixin, forms.Form):
    """The day a medicine was stopped, and why."""

    stopped_on = day("Stopped on")
    stop_reason = choice("Reason", StopReason.choices, radio=True)


class TitrationStepForm(AccessibleFormMixin, forms.Form):
    """A dose step: from a day, an amount in a unit so many times a day."""

    starts_on = day("From")
    note = text("Note", limit=NOTE_MAX_LENGTH, rows=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _dose_fields(self, required=True)
        self.order_fields(["starts_on", *DOSE_FIELDS, "note"])

    def details(self) -> rules.DoseDetails:
        return rules.DoseDetails(**self.cleaned_data)
