"""A made-up past clinical record for one demo patient (Oliver Example): a signed
consultation with history, family and drug history, examination, the core's classification
confirmed, the diagnosis on the problem list, and the letter sent to the GP. So the patient
page, the timeline, the problem list, the clinic search and the letters have something to
show in the demo. Made through the same models and the same core as the clinic's own pages;
loaded once (nothing is added when the consultation is already there)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from clinic.accounts.models import User
from clinic.demo import data
from clinic.directory.models import Site
from clinic.records import classification
from clinic.records.letter_document import letter_content, render_letter_html, render_letter_pdf
from clinic.records.models import (
    ClassificationReview,
    Diagnosis,
    DiagnosisKind,
    DrugExposure,
    Encounter,
    EncounterKind,
    Examination,
    FamilyMember,
    History,
    Letter,
    LetterStatus,
    Patient,
    RegionFinding,
    ReviewDecision,
)
from clinic.scheduling.availability import clinic_tz, local_today

DEMO_NOTE = "(Made-up demonstration record.)"
# How long before the day the demo is loaded the consultation took place.
CONSULTATION_DAYS_AGO = 120


def clinical_record_load() -> int:
    """Create the demo consultation and what hangs off it; how many rows were made."""
    patient = Patient.objects.get(hospital_number=data.DEMO_PATIENTS[1][4])
    if Encounter.objects.filter(patient=patient).exists():
        return 0
    clinician = User.objects.get(email=data.DEMO_STAFF[1][0])
    seen_on = local_today() - timedelta(days=CONSULTATION_DAYS_AGO)
    started = datetime.combine(seen_on, time(10, 30), clinic_tz())
    encounter = Encounter.objects.create(
        patient=patient,
        kind=EncounterKind.CONSULTATION,
        clinician=clinician,
        site=Site.objects.get(slug="london-neurosurgery-partnership"),
        started_at=started,
        notes=(
            "Two years of the head turning to the right, worse when tired, eased by touching "
            f"the chin. Focal cervical dystonia. {DEMO_NOTE}"
        ),
    )
    History.objects.create(
        encounter=encounter,
        presenting_complaint="Head turns to the right, with neck pain. " + DEMO_NOTE,
        age_at_onset_years=_age_on(patient.date_of_birth, seen_on) - 2,
        first_region="neck",
        sensory_tricks="Touching the chin",
        worse_with="Tiredness, stress",
        course="static",
    )
    FamilyMember.objects.create(
        patient=patient,
        relationship="paternal_uncle",
        condition="Tremor of both hands " + DEMO_NOTE,
        recorded_by=clinician,
    )
    DrugExposure.objects.create(
        patient=patient,
        drug="Paracetamol",
        started_on=seen_on - timedelta(days=365),
        notes="For neck pain",
        recorded_by=clinician,
    )
    examination = Examination.objects.create(encounter=encounter)
    RegionFinding.objects.create(
        examination=examination,
        region="neck",
        posture="Head rotated to the right (torticollis)",
        movement="Jerky movements against the turn",
    )
    review = classification.refresh_review(encounter)
    if review is None:  # pragma: no cover - the history and examination above classify
        raise RuntimeError("The demo consultation could not be classified")
    ClassificationReview.objects.filter(pk=review.pk).update(
        decision=ReviewDecision.CONFIRMED,
        decided_by=clinician,
        decided_at=started + timedelta(minutes=40),
    )
    Diagnosis.objects.create(
        patient=patient,
        kind=DiagnosisKind.DYSTONIA,
        label="Cervical dystonia",
        codes=review.assessment["codes"],
        diagnosed_on=seen_on,
        encounter=encounter,
        classification_review=review,
        recorded_by=clinician,
    )
    signed = started + timedelta(minutes=45)
    Encounter.objects.filter(pk=encounter.pk).update(signed_at=signed, signed_by=clinician)
    encounter.refresh_from_db()
    _letter_send(encounter, clinician, at=signed + timedelta(hours=2))
    return 1


def _letter_send(encounter: Encounter, clinician: User, *, at: datetime) -> None:
    letter = Letter.objects.create(
        encounter=encounter,
        patient=encounter.patient,
        plan="Botulinum toxin to the neck muscles; review in three months. " + DEMO_NOTE,
        author=clinician,
        copy_to_patient=True,
    )
    content = letter_content(letter, on=timezone.localtime(at, clinic_tz()).date(), draft=False)
    html = render_letter_html(content)
    Letter.objects.filter(pk=letter.pk).update(
        status=LetterStatus.SENT,
        addressees=[addressee.as_dict() for addressee in content.addressees],
        html=html,
        pdf=render_letter_pdf(html),
        sent_at=at,
        sent_by=clinician,
    )


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
