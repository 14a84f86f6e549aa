"""Investigations: ordered, resulted once or cancelled with a reason; blood and urine results
converted to one canonical unit per analyte and read by the core (a low caeruloplasmin and a
high urinary copper flagged, a normal caeruloplasmin never excluding Wilson disease); the
work-up advice's investigations ordered from it. Clinicians only, every access audited
without clinical content, nothing written on a refusal, a merged record refused."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry, AuditOutcome
from clinic.records import investigation_rules as rules
from clinic.records import investigation_selectors, investigation_workup, investigations, merge
from clinic.records.access import AccessRefused
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.investigation_rules import InvestigationRefused, OrderDetails, ResultDetails
from clinic.records.investigation_workup import LineState
from clinic.records.locks import BUSY
from clinic.records.merged import MERGED
from clinic.records.models import ClassificationReview, Investigation, Patient, ReviewDecision
from clinic.records.selectors import PatientNotFound
from clinic.scheduling.availability import local_today
from dystonia.assessment import assess, assessment_document
from dystonia.findings import findings_from_document
from dystonia.labs.wilson import NOT_EXCLUDED
from tests import factories
from tests.clinic.records.test_diagnoses import encounter_for
from tests.clinic.records.test_encounters import context_of

pytestmark = pytest.mark.django_db

BORN = date(2000, 1, 1)
ORDERED = date(2024, 3, 1)
RESULTED = date(2024, 3, 8)
WORDS_NEVER_AUDITED = ("caerulo", "copper", "slit", "mri", "levodopa", "genetic", "g/l", "low")


@pytest.fixture
def unit(db, staff):
    patient_user = factories.user(role=Role.PATIENT)
    return {
        "clinician": factories.user(role=Role.CLINICIAN, full_name="Dr Ann"),
        "colleague": factories.user(role=Role.CLINICIAN),
        "patient": factories.patient(user=patient_user, date_of_birth=BORN),
        "patient_user": patient_user,
        "staff": staff,
    }


def order(unit, kind="caeruloplasmin", *, user=None, **changes) -> Investigation:
    details = OrderDetails(**({"kind": kind, "ordered_on": ORDERED} | changes))
    return investigations.investigation_order(
        context=context_of(user or unit["clinician"]),
        patient_id=unit["patient"].pk,
        details=details,
    )


def result(investigation, *, user, **values) -> Investigation:
    details = ResultDetails(**({"resulted_on": RESULTED} | values))
    return investigations.investigation_result(
        context=context_of(user), investigation_id=investigation.pk, details=details
    )


def lab(unit, kind, value, unit_text, **more) -> Investigation:
    return result(order(unit, kind), user=unit["clinician"], value=value, unit=unit_text, **more)


def decided_review(patient, clinician, *, age=15, regions=({"region": "neck"},), decided=True):
    """A confirmed classification of the given findings at a new encounter."""
    document = {"age_at_onset_years": age, "regions": list(regions)}
    assessment = assessment_document(assess(findings_from_document(document)))
    return ClassificationReview.objects.create(
        encounter=encounter_for(patient, clinician),
        findings=document,
        assessment=assessment,
        classification_version=assessment["classification_version"],
        distribution=assessment["distribution"],
        forms=" ".join(assessment["forms"]),
        decision=ReviewDecision.CONFIRMED if decided else ReviewDecision.PENDING,
        decided_by=clinician if decided else None,
        decided_at=timezone.now() if decided else None,
    )


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _state(investigation) -> dict:
    return Investigation.objects.filter(pk=investigation.pk).values().get()


# The core's reading of blood and urine results, against the source's values


def test_a_caeruloplasmin_of_0_09_g_per_l_is_flagged_low_with_2_leipzig_points(unit):
    done = lab(unit, "caeruloplasmin", 0.09, "g/L")

    assert (done.value, done.unit, done.flag, done.leipzig_points) == (0.09, "g/L", "low", 2)
    assert "scores 2 in the Leipzig score" in done.interpretation
    assert "Kayser-Fleischer rings" in done.interpretation
    assert (done.reference_low, done.reference_high) == (0.2, 0.5)
    assert "EASL" in done.reference_source
    assert "Leipzig" in done.interpretation_source


def test_a_normal_caeruloplasmin_says_it_does_not_exclude_wilson_disease(unit):
    done = lab(unit, "caeruloplasmin", 0.25, "g/L")

    assert (done.flag, done.leipzig_points) == ("normal", 0)
    assert NOT_EXCLUDED in done.interpretation
    assert "exclude" not in done.interpretation.replace("does not exclude", "")


def test_9_mg_per_dl_is_stored_as_0_09_g_per_l_with_the_value_as_entered(unit):
    done = lab(unit, "caeruloplasmin", 9, "mg/dL")

    stored = _state(done)
    assert (stored["value"], stored["unit"]) == (0.09, "g/L")
    assert (stored["entered_value"], stored["entered_unit"]) == (9, "mg/dL")
    assert (stored["flag"], stored["leipzig_points"]) == ("low", 2)
    assert stored["interpretation"].startswith("9 mg/dL = 0.09 g/L.")


def test_a_urinary_copper_of_1_7_umol_per_24_h_is_flagged(unit):
    done = lab(unit, "urinary_copper_24h", 1.7, "µmol/24 h")

    assert (done.value, done.unit, done.flag) == (1.7, "µmol/24 h", "high")
    assert "typical of symptomatic Wilson disease" in done.interpretation
    # The source gives no range for urinary copper, so none is stored.
    assert (done.reference_low, done.reference_high, done.reference_source) == (None, None, "")


def test_units_are_read_however_they_are_spelt_and_stored_as_written_on_reports(unit):
    done = lab(unit, "urinary_copper_24h", 100, "ug/24h")

    assert (done.entered_unit, done.unit) == ("µg/24 h", "µmol/24 h")
    assert math.isclose(done.value, 100 / 63.546)


def test_the_laboratorys_range_replaces_the_sources_and_is_kept(unit):
    done = lab(
        unit, "caeruloplasmin", 18, "mg/dL", reference_low=16, reference_high=45
    )  # inside the laboratory's range, in the Leipzig 1-point band

    assert (done.reference_low, done.reference_high) == (0.16, 0.45)
    assert done.reference_source == "the laboratory's own reference range"
    assert (done.flag, done.leipzig_points) == ("low", 1)
    assert "Within the laboratory's reference range" in done.interpretation


def test_a_serum_copper_without_a_range_is_not_flagged(unit):
    done = lab(unit, "serum_copper", 12, "µmol/L")

    assert (done.flag, done.reference_source) == ("not_flagged", "")
    assert "no cut-off for total serum copper" in done.interpretation


# The other kinds


def test_each_kind_keeps_its_own_result(unit):
    clinician = unit["clinician"]
    slit = result(order(unit, "slit_lamp"), user=clinician, kf_rings=True)
    gene = result(
        order(unit, "genetic_panel", name="Wilson disease"),
        user=clinician,
        gene="ATP7B",
        variant="NM_000053.4:c.3207C>A",
        variant_classification="pathogenic",
    )
    none_found = result(
        order(unit, "genetic_panel"), user=clinician, report="No pathogenic variant found."
    )
    trial = result(
        order(unit, "levodopa_trial"),
        user=clinician,
        levodopa_dose_mg_per_day=300,
        levodopa_duration_days=28,
        levodopa_response="marked",
    )
    mri = result(order(unit, "mri"), user=clinician, report="Normal MRI brain.")

    assert slit.kf_rings is True
    assert (gene.gene, gene.variant, gene.variant_classification) == (
        "ATP7B",
        "NM_000053.4:c.3207C>A",
        "pathogenic",
    )
    assert (none_found.variant, none_found.report) == ("", "No pathogenic variant found.")
    assert (trial.levodopa_dose_mg_per_day, trial.levodopa_duration_days) == (300, 28)
    assert mri.report == "Normal MRI brain."
    assert {i.status for i in Investigation.objects.all()} == {"resulted"}
    assert not any(i.flag for i in Investigation.objects.exclude(kind__in=["caeruloplasmin"]))


# Bad input: a clear message, nothing written


LAB_REFUSALS = [
    ({"value": 0.2, "unit": ""}, "unit", rules.UNIT_REQUIRED.format(units="g/L, mg/dL, mg/L")),
    ({"value": 0.2, "unit": "   "}, "unit", None),
    ({"value": 0.2, "unit": None}, "unit", None),
    (
        {"value": 0.2, "unit": "mmol/L"},
        "unit",
        "Choose a unit of serum caeruloplasmin: g/L, mg/dL, mg/L.",
    ),
    ({"value": 0.2, "unit": "µmol/L"}, "unit", None),  # another analyte's unit
    ({"value": None, "unit": "g/L"}, "value", rules.VALUE_REQUIRED),
    ({"value": "", "unit": "g/L"}, "value", rules.VALUE_REQUIRED),
    ({"value": -0.1, "unit": "g/L"}, "value", rules.NEGATIVE),
    ({"value": "0.2", "unit": "g/L"}, "value", rules.BAD_NUMBER),
    ({"value": True, "unit": "g/L"}, "value", rules.BAD_NUMBER),
    ({"value": math.nan, "unit": "g/L"}, "value", rules.BAD_NUMBER),
    ({"value": math.inf, "unit": "g/L"}, "value", rules.BAD_NUMBER),
    ({"value": 10**400, "unit": "g/L"}, "value", rules.TOO_LARGE),
    ({"value": 2_000_000, "unit": "mg/L"}, "value", rules.TOO_LARGE),
    (
        {"value": 0.2, "unit": "g/L", "reference_low": 0.5, "reference_high": 0.2},
        "reference_high",
        rules.LOW_ABOVE_HIGH,
    ),
    ({"value": 0.2, "unit": "g/L", "reference_low": -1}, "reference_low", rules.BAD_BOUND),
    ({"value": 0.2, "unit": "g/L", "reference_high": "x"}, "reference_high", rules.BAD_BOUND),
    ({"value": 0.2, "unit": "g/L", "kf_rings": True}, "kf_rings", None),
    ({"value": 0.2, "unit": "g/L", "gene": "ATP7B"}, "gene", None),
    ({"value": 0.2, "unit": "g/L", "report": "x" * 20_001}, "report", None),
    ({"value": 0.2, "unit": "g/L", "report": "a\x00b"}, "report", NUL_CHARACTER),
    ({"value": 0.2, "unit": "g/L", "report": 5}, "report", rules.BAD_TEXT),
]


@pytest.mark.parametrize(("values", "field", "message"), LAB_REFUSALS)
def test_a_bad_lab_result_is_refused_with_a_clear_message_and_nothing_written(
    unit, values, field, message
):
    ordered = order(unit)
    before, audited = _state(ordered), _last_audit_pk()

    with pytest.raises(InvestigationRefused) as refused:
        result(ordered, user=unit["clinician"], **values)

    assert refused.value.field == field
    assert refused.value.status == 400
    if message:
        assert refused.value.message == message
    assert _state(ordered) == before
    entry = AuditEntry.objects.get(pk__gt=audited)
    assert entry.outcome == AuditOutcome.REFUSED
    assert entry.detail == f"investigation update refused: {rules.RESULT_NOT_VALID}"


KIND_REFUSALS = [
    ("slit_lamp", {}, "kf_rings", rules.KF_REQUIRED),
    ("slit_lamp", {"kf_rings": "yes"}, "kf_rings", rules.KF_REQUIRED),
    ("slit_lamp", {"kf_rings": False, "value": 1}, "value", None),
    ("genetic_panel", {}, "variant", rules.VARIANT_OR_REPORT),
    ("genetic_panel", {"gene": "ATP7B", "variant": "H1069Q"}, "variant", rules.BAD_VARIANT),
    (
        "genetic_panel",
        {"variant": "c.3207C>A", "variant_classification": "pathogenic"},
        "gene",
        rules.GENE_REQUIRED,
    ),
    (
        "genetic_panel",
        {"gene": "ATP7B", "variant": "c.3207C>A"},
        "variant_classification",
        rules.CLASSIFICATION_REQUIRED,
    ),
    (
        "genetic_panel",
        {"gene": "ATP7B", "variant": "c.3207C>A", "variant_classification": "bad"},
        "variant_classification",
        rules.BAD_CLASSIFICATION,
    ),
    (
        "genetic_panel",
        {"variant_classification": "benign", "report": "x"},
        "variant",
        rules.CLASSIFICATION_WITHOUT_VARIANT,
    ),
    ("genetic_panel", {"gene": "<script>", "report": "x"}, "gene", rules.BAD_GENE),
    ("levodopa_trial", {}, "levodopa_dose_mg_per_day", rules.BAD_DOSE),
    (
        "levodopa_trial",
        {"levodopa_dose_mg_per_day": 0, "levodopa_duration_days": 28},
        "levodopa_dose_mg_per_day",
        rules.DOSE_OUT_OF_RANGE,
    ),
    (
        "levodopa_trial",
        {"levodopa_dose_mg_per_day": -300},
        "levodopa_dose_mg_per_day",
        rules.DOSE_OUT_OF_RANGE,
    ),
    (
        "levodopa_trial",
        {"levodopa_dose_mg_per_day": 30_000},
        "levodopa_dose_mg_per_day",
        rules.DOSE_OUT_OF_RANGE,
    ),
    (
        "levodopa_trial",
        {"levodopa_dose_mg_per_day": 300.5},
        "levodopa_dose_mg_per_day",
        rules.BAD_DOSE,
    ),
    (
        "levodopa_trial",
        {"levodopa_dose_mg_per_day": 300, "levodopa_duration_days": 366},
        "levodopa_duration_days",
        rules.DURATION_OUT_OF_RANGE,
    ),
    (
        "levodopa_trial",
        {
            "levodopa_dose_mg_per_day": 300,
            "levodopa_duration_days": 28,
            "levodopa_response": "great",
        },
        "levodopa_response",
        rules.BAD_RESPONSE,
    ),
    ("mri", {}, "report", rules.REPORT_REQUIRED),
    ("emg", {"report": "   "}, "report", rules.REPORT_REQUIRED),
    ("other", {"report": "x", "levodopa_response": "none"}, "levodopa_response", None),
]


@pytest.mark.parametrize(("kind", "values", "field", "message"), KIND_REFUSALS)
def test_a_result_missing_its_parts_or_with_another_kinds_is_refused(
    unit, kind, values, field, message
):
    ordered = order(unit, kind, name="Other test" if kind == "other" else "")
    before = _state(ordered)

    with pytest.raises(InvestigationRefused) as refused:
        result(ordered, user=unit["clinician"], **values)

    assert refused.value.field == field
    if message:
        assert refused.value.message == message
    assert _state(ordered) == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "blood_test"}, "kind", rules.BAD_KIND),
        ({"kind": None}, "kind", rules.BAD_KIND),
        ({"kind": "other"}, "name", rules.NAME_REQUIRED),
        ({"name": "x" * 201}, "name", "The name can be at most 200 characters."),
        ({"name": "\x00"}, "name", NUL_CHARACTER),
        ({"ordered_on": local_today() + timedelta(days=1)}, "ordered_on", rules.ORDERED_IN_FUTURE),
        ({"ordered_on": date(1999, 12, 31)}, "ordered_on", rules.ORDERED_BEFORE_BIRTH),
        ({"ordered_on": "2024-03-01"}, "ordered_on", rules.BAD_DATE),
        ({"encounter_id": 10**9}, "encounter", investigations.OTHER_PATIENTS_ENCOUNTER),
        ({"encounter_id": "1"}, "encounter", investigations.OTHER_PATIENTS_ENCOUNTER),
    ],
)
def test_a_bad_order_is_refused_and_nothing_written(unit, changes, field, message):
    audited = _last_audit_pk()

    with pytest.raises(InvestigationRefused) as refused:
        order(unit, **changes)

    assert (refused.value.field, refused.value.message) == (field, message)
    assert not Investigation.objects.exists()
    entry = AuditEntry.objects.get(pk__gt=audited)
    assert (entry.outcome, entry.detail) == ("refused", f"investigation create refused: {message}")


def test_an_encounter_of_another_patient_is_refused(unit, other_patient):
    theirs = encounter_for(other_patient, unit["clinician"])

    with pytest.raises(InvestigationRefused) as refused:
        order(unit, encounter_id=theirs.pk)

    assert refused.value.message == investigations.OTHER_PATIENTS_ENCOUNTER
    assert not Investigation.objects.exists()


def test_an_order_links_its_encounter_and_the_day_of_birth_and_today_are_allowed(unit):
    visit = encounter_for(unit["patient"], unit["clinician"])

    first = order(unit, ordered_on=BORN, encounter_id=visit.pk)
    second = order(unit, "other", name="Ceruloplasmin repeat", ordered_on=local_today())

    assert (first.encounter, first.status, first.ordered_by) == (
        visit,
        "ordered",
        unit["clinician"],
    )
    assert second.title == "Ceruloplasmin repeat"


@pytest.mark.parametrize(
    ("resulted_on", "message"),
    [
        (date(2024, 2, 29), rules.RESULTED_BEFORE_ORDER.format(day="1 March 2024")),
        (local_today() + timedelta(days=1), rules.RESULTED_IN_FUTURE),
        (None, rules.RESULTED_REQUIRED),
        ("2024-03-08", rules.BAD_DATE),
    ],
)
def test_a_result_before_its_order_or_in_the_future_is_refused(unit, resulted_on, message):
    ordered = order(unit)
    before = _state(ordered)

    with pytest.raises(InvestigationRefused) as refused:
        result(ordered, user=unit["clinician"], value=0.2, unit="g/L", resulted_on=resulted_on)

    assert (refused.value.field, refused.value.message) == ("resulted_on", message)
    assert _state(ordered) == before


def test_a_result_on_the_day_of_the_order_is_allowed(unit):
    done = result(order(unit), user=unit["clinician"], value=0.3, unit="g/L", resulted_on=ORDERED)

    assert done.resulted_on == ORDERED


# The lifecycle


def test_a_cancelled_investigation_is_never_resulted(unit):
    ordered = order(unit)
    cancelled = investigations.investigation_cancel(
        context=context_of(unit["colleague"]), investigation_id=ordered.pk, reason="  Duplicate "
    )
    before = _state(ordered)

    with pytest.raises(InvestigationRefused) as refused:
        result(ordered, user=unit["clinician"], value=0.2, unit="g/L")
    with pytest.raises(InvestigationRefused) as again:
        investigations.investigation_cancel(
            context=context_of(unit["clinician"]), investigation_id=ordered.pk, reason="Twice"
        )

    assert (cancelled.status, cancelled.cancelled_reason) == ("cancelled", "Duplicate")
    assert cancelled.cancelled_by == unit["colleague"]
    assert (refused.value.message, refused.value.status) == (
        investigations.RESULT_OF_CANCELLED,
        409,
    )
    assert (again.value.message, again.value.status) == (investigations.ALREADY_CANCELLED, 409)
    assert _state(ordered) == before


def test_a_cancelled_result_is_refused_before_its_details_are_checked(unit):
    ordered = order(unit)
    investigations.investigation_cancel(
        context=context_of(unit["clinician"]), investigation_id=ordered.pk, reason="Lost sample"
    )

    with pytest.raises(InvestigationRefused) as refused:
        result(ordered, user=unit["clinician"], value=-1, unit="furlongs")

    assert refused.value.status == 409


def test_an_investigation_is_resulted_once_and_then_cannot_be_cancelled(unit):
    done = lab(unit, "caeruloplasmin", 0.3, "g/L")
    before = _state(done)

    with pytest.raises(InvestigationRefused) as twice:
        result(done, user=unit["colleague"], value=0.1, unit="g/L")
    with pytest.raises(InvestigationRefused) as cancel:
        investigations.investigation_cancel(
            context=context_of(unit["clinician"]), investigation_id=done.pk, reason="Oops"
        )

    assert twice.value.message == investigations.ALREADY_RESULTED.format(day="8 March 2024")
    assert (cancel.value.message, cancel.value.status) == (investigations.CANCEL_RESULTED, 409)
    assert _state(done) == before


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", investigations.REASON_REQUIRED),
        ("   ", investigations.REASON_REQUIRED),
        (None, rules.BAD_TEXT),
        ("x" * 301, "The reason can be at most 300 characters."),
        ("\x00", NUL_CHARACTER),
    ],
)
def test_a_cancellation_needs_a_reason(unit, reason, message):
    ordered = order(unit)

    with pytest.raises(InvestigationRefused) as refused:
        investigations.investigation_cancel(
            context=context_of(unit["clinician"]), investigation_id=ordered.pk, reason=reason
        )

    assert (refused.value.field, refused.value.message) == ("reason", message)
    assert Investigation.objects.get().status == "ordered"


# Who, and the audit trail


@pytest.mark.parametrize(
    ("role", "reveal"), [(Role.RECEPTION, True), (Role.ADMIN, True), (Role.PATIENT, False)]
)
def test_only_clinicians_order(unit, role, reveal):
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]

    with pytest.raises(AccessRefused) as refused:
        order(unit, user=user)

    assert refused.value.reveal is reveal
    assert not Investigation.objects.exists()
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.outcome, entry.detail) == ("refused", "investigation create refused")


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_nobody_but_a_clinician_learns_an_investigation_exists(unit, role):
    ordered = order(unit)
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    context = context_of(user)
    before = _state(ordered)

    for call in (
        lambda: result(ordered, user=user, value=0.2, unit="g/L"),
        lambda: investigations.investigation_cancel(
            context=context, investigation_id=ordered.pk, reason="x"
        ),
        lambda: investigation_selectors.investigation_for_clinician(
            context=context, investigation_id=ordered.pk
        ),
    ):
        with pytest.raises(AccessRefused) as refused:
            call()
        assert refused.value.reveal is False  # 404, as for a missing one
    assert _state(ordered) == before


def test_a_missing_investigation_or_patient_is_not_found_and_audited(unit):
    context = context_of(unit["clinician"])

    with pytest.raises(investigations.InvestigationNotFound):
        investigations.investigation_cancel(context=context, investigation_id=10**9, reason="x")
    with pytest.raises(PatientNotFound):
        investigations.investigation_order(
            context=context,
            patient_id=10**9,
            details=OrderDetails(kind="mri", ordered_on=ORDERED),
        )

    details = list(AuditEntry.objects.order_by("pk").values_list("detail", flat=True))
    assert details == ["no such investigation", "no such patient"]


def test_audit_entries_never_name_the_investigation_or_its_result(unit):
    clinician = unit["clinician"]
    done = lab(unit, "caeruloplasmin", 0.09, "g/L")
    cancelled = order(unit, "slit_lamp")
    investigations.investigation_cancel(
        context=context_of(clinician), investigation_id=cancelled.pk, reason="Seen elsewhere"
    )
    investigation_selectors.investigation_for_clinician(
        context=context_of(clinician), investigation_id=done.pk
    )
    with pytest.raises(InvestigationRefused):
        result(order(unit, "urinary_copper_24h"), user=clinician, value=1, unit="g/L")

    details = list(AuditEntry.objects.order_by("pk").values_list("detail", flat=True))
    assert details == [
        "investigation ordered",
        "investigation resulted",
        "investigation ordered",
        "investigation cancelled",
        "investigation read",
        "investigation ordered",
        f"investigation update refused: {rules.RESULT_NOT_VALID}",
    ]
    assert not any(word in d.lower() for d in details for word in WORDS_NEVER_AUDITED)
    assert set(AuditEntry.objects.values_list("patient", flat=True)) == {unit["patient"].pk}


# A merged record, someone else writing


def test_writes_to_a_merged_record_are_refused_and_nothing_written(unit):
    keep = factories.patient(date_of_birth=BORN)
    ordered = order(unit)
    before = _state(ordered)
    # As records/merge.py leaves a duplicate (its rows are moved; this one is left behind, as
    # if found before the merge and written after it).
    Patient.objects.filter(pk=unit["patient"].pk).update(merged_into=keep, merged_at=timezone.now())

    with pytest.raises(InvestigationRefused) as refused:
        order(unit)
    with pytest.raises(InvestigationRefused) as resulted:
        result(ordered, user=unit["clinician"], value=0.3, unit="g/L")
    with pytest.raises(InvestigationRefused) as cancelled:
        investigations.investigation_cancel(
            context=context_of(unit["clinician"]), investigation_id=ordered.pk, reason="x"
        )

    for refusal in (refused, resulted, cancelled):
        assert refusal.value.status == 409
        assert refusal.value.message.startswith(MERGED.split("{")[0])
    assert Investigation.objects.count() == 1
    assert _state(ordered) == before
    assert AuditEntry.objects.filter(
        outcome="refused", detail__startswith="investigation create refused: This record was"
    ).exists()


def test_a_merge_moves_the_investigations():
    assert "records.Investigation.patient" in merge.MOVED


def test_a_lock_error_is_refused_as_busy_and_nothing_written(unit, monkeypatch):
    ordered = order(unit)
    before = _state(ordered)

    def deadlock(*args, **kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(investigations, "check_resulted_on", deadlock)
    monkeypatch.setattr(investigations, "_create", deadlock)

    with pytest.raises(InvestigationRefused) as busy:
        result(ordered, user=unit["clinician"], value=0.3, unit="g/L")
    with pytest.raises(InvestigationRefused) as busy_order:
        order(unit)

    assert (busy.value.message, busy.value.status) == (BUSY, 409)
    assert (busy_order.value.message, busy_order.value.status) == (BUSY, 409)
    assert _state(ordered) == before
    assert Investigation.objects.count() == 1
    assert AuditEntry.objects.filter(detail=f"investigation update refused: {BUSY}").exists()


# The work-up advice


def _advice(unit):
    return investigation_selectors.investigations_of_patient(
        context=context_of(unit["clinician"]), patient=unit["patient"]
    ).advice


def _from_advice(unit, item_id, key, *, user=None):
    return investigations.investigation_order_from_workup(
        context=context_of(user or unit["clinician"]),
        patient_id=unit["patient"].pk,
        item_id=item_id,
        key=key,
    )


def test_without_a_decided_classification_there_is_no_advice(unit):
    decided_review(unit["patient"], unit["clinician"], decided=False)

    advice = _advice(unit)

    assert (advice.items, advice.missing) == ([], investigation_workup.NO_DECIDED_CLASSIFICATION)


def test_wilson_disease_stays_to_be_excluded_until_every_result_is_in(unit):
    clinician = unit["clinician"]
    decided_review(unit["patient"], clinician)  # onset at 15 in the neck

    wilson = _advice(unit).items[0]
    assert (wilson.id, wilson.title) == ("wilson_disease", "Exclude Wilson disease")
    assert [line.state for line in wilson.lines] == [LineState.NOT_ORDERED] * 3
    assert wilson.status == investigation_workup.STILL_TO_EXCLUDE.format(count=3, verb="have")

    made, created = _from_advice(unit, "wilson_disease", "caeruloplasmin:")
    urine, _ = _from_advice(unit, "wilson_disease", "urinary_copper_24h:")
    slit, _ = _from_advice(unit, "wilson_disease", "slit_lamp:")
    assert created
    assert (made.kind, made.workup_item, made.ordered_on) == (
        "caeruloplasmin",
        "wilson_disease",
        local_today(),
    )

    result(made, user=clinician, value=0.25, unit="g/L", resulted_on=local_today())
    wilson = _advice(unit).items[0]
    caeruloplasmin = wilson.lines[0]
    assert caeruloplasmin.state is LineState.RESULTED
    assert NOT_EXCLUDED in caeruloplasmin.investigation.interpretation
    assert wilson.status.startswith("Still to be excluded: 2 of its investigations")

    result(urine, user=clinician, value=0.5, unit="µmol/24 h", resulted_on=local_today())
    result(slit, user=clinician, kf_rings=False, resulted_on=local_today())
    wilson = _advice(unit).items[0]
    assert wilson.outstanding == []
    assert wilson.status == investigation_workup.WILSON_RESULTED
    assert "excluded" not in wilson.status.replace("not mark a cause excluded", "")


def test_ordering_from_the_advice_twice_orders_once(unit):
    decided_review(unit["patient"], unit["clinician"])

    first, created = _from_advice(unit, "wilson_disease", "caeruloplasmin:")
    again, created_again = _from_advice(unit, "wilson_disease", "caeruloplasmin:")

    assert (created, created_again) == (True, False)
    assert again == first
    assert Investigation.objects.count() == 1
    ordered = AuditEntry.objects.filter(detail="investigation ordered from the work-up advice")
    assert ordered.count() == 1


def test_a_cancelled_order_is_outstanding_again_and_any_order_of_the_kind_counts(unit):
    decided_review(unit["patient"], unit["clinician"])
    first, _ = _from_advice(unit, "wilson_disease", "caeruloplasmin:")
    investigations.investigation_cancel(
        context=context_of(unit["clinician"]), investigation_id=first.pk, reason="Haemolysed"
    )
    assert _advice(unit).items[0].lines[0].state is LineState.NOT_ORDERED

    by_hand = order(unit, "caeruloplasmin")

    line = _advice(unit).items[0].lines[0]
    assert (line.state, line.investigation) == (LineState.ORDERED, by_hand)


def test_genetic_tests_are_ordered_by_name(unit):
    decided_review(unit["patient"], unit["clinician"])
    genetic = next(item for item in _advice(unit).items if item.id == "genetic_testing")
    [line] = genetic.lines

    made, _ = _from_advice(unit, "genetic_testing", line.key)

    assert line.key == "genetic_panel:THAP1 (DYT6) testing"
    assert (made.kind, made.name) == ("genetic_panel", "THAP1 (DYT6) testing")


@pytest.mark.parametrize(
    ("item_id", "key"),
    [
        ("wilson_disease", "mri:"),
        ("structural_cause", "mri:"),  # not advised for these findings
        ("wilson_disease", ""),
        ("nonsense", "caeruloplasmin:"),
    ],
)
def test_an_investigation_the_advice_does_not_list_is_refused(unit, item_id, key):
    decided_review(unit["patient"], unit["clinician"])

    with pytest.raises(InvestigationRefused) as refused:
        _from_advice(unit, item_id, key)

    assert (refused.value.message, refused.value.status) == (investigations.ADVICE_CHANGED, 409)
    assert not Investigation.objects.exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_only_clinicians_order_from_the_advice(unit, role):
    decided_review(unit["patient"], unit["clinician"])
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]

    with pytest.raises(AccessRefused):
        _from_advice(unit, "wilson_disease", "caeruloplasmin:", user=user)

    assert not Investigation.objects.exists()


@pytest.mark.parametrize("n", [1, 20])
def test_the_patient_pages_panel_takes_three_queries(unit, n, django_assert_num_queries):
    decided_review(unit["patient"], unit["clinician"])
    for _ in range(n):
        order(unit)

    with django_assert_num_queries(3):  # investigations, the review, the audit entry
        panel = investigation_selectors.investigations_section(
            context=context_of(unit["clinician"]), patient=unit["patient"]
        )

    assert len(panel.investigations) == n
    assert panel.awaiting == n


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_the_panel_is_absent_for_anyone_but_a_clinician(unit, role):
    user = unit["patient_user"] if role == Role.PATIENT else unit["staff"][role]
    audited = _last_audit_pk()

    panel = investigation_selectors.investigations_section(
        context=context_of(user), patient=unit["patient"]
    )

    assert panel is None
    assert not AuditEntry.objects.filter(pk__gt=audited).exists()
