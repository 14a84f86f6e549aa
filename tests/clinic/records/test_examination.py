"""The examination by body region: saved on a draft by its clinician only, with optimistic
concurrency, every bad input refused with nothing written, every access audited without
clinical content; the body diagram page and its equivalent form."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import encounters, examination
from clinic.records.access import AccessRefused
from clinic.records.encounter_forms import OUT_OF_DATE
from clinic.records.encounters import EncounterNotFound
from clinic.records.examination import SITES, SiteFinding
from clinic.records.examination_selectors import examination_section
from clinic.records.models import (
    ClassificationReview,
    EncounterKind,
    Examination,
    History,
    RegionFinding,
)
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

NECK = SiteFinding("neck", posture="Head turned to the left", movement="Jerky", tremor=True)
RIGHT_ARM = SiteFinding("upper_limb", "right", posture="Wrist flexed when writing")
SCRIPT = "<script>alert(1)</script>"


# Builders, shared with test_classification.py


@pytest.fixture
def exam(db, staff, patient_user):
    return make_exam(staff, patient_user)


def make_exam(staff, patient_user):
    """A clinician's draft walk-in encounter with their patient, whose history gives an age at
    onset of 40."""
    site = factories.site(slug="exam-site")
    clinician = factories.user(role=Role.CLINICIAN, full_name="Dr Ann")
    patient = patient_user.patient_record
    encounter, _created = encounters.encounter_start(
        context=context_of(clinician),
        patient=patient,
        kind=EncounterKind.CONSULTATION,
        site=site,
        notes="Seen today.",
    )
    History.objects.create(encounter=encounter, age_at_onset_years=40)
    return {
        "site": site,
        "clinician": clinician,
        "patient": patient,
        "encounter": encounter,
        "staff": staff,
    }


def save(exam, sites, *, user=None, features=(), notes="", encounter=None):
    """Save an examination as the writer who saw the current version."""
    encounter = encounter or exam["encounter"]
    current = Examination.objects.filter(encounter=encounter).first()
    return examination.examination_save(
        context=context_of(user or exam["clinician"]),
        encounter_id=encounter.pk,
        sites=sites,
        associated_features=list(features),
        notes=notes,
        expected_updated_at=current.updated_at if current else None,
    )


def form_data(*sites: str, version: str = "new", **fields: str) -> dict[str, object]:
    """The examination form as posted, with the named sites ticked."""
    data: dict[str, object] = {"version": version}
    data |= {f"{key}_involved": "on" for key in sites}
    return data | fields


def _writes():
    return (
        Examination.objects.count(),
        list(RegionFinding.objects.values_list("region", "side", "posture", "movement")),
        ClassificationReview.objects.count(),
    )


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# Saving


def test_saving_records_the_involved_sites_and_signs(exam):
    saved = save(exam, [NECK, RIGHT_ARM], features=["myoclonus"], notes="Geste present.")

    rows = list(saved.regions.values_list("region", "side", "posture", "tremor", "task_specific"))
    assert sorted(rows) == [
        ("neck", "", "Head turned to the left", True, False),
        ("upper_limb", "right", "Wrist flexed when writing", False, False),
    ]
    assert saved.associated_features == ["myoclonus"]
    assert saved.notes == "Geste present."


def test_a_second_save_replaces_the_regions(exam):
    save(exam, [NECK, RIGHT_ARM])
    saved = save(exam, [SiteFinding("trunk")])

    assert list(saved.regions.values_list("region", flat=True)) == ["trunk"]
    assert RegionFinding.objects.count() == 1
    assert Examination.objects.count() == 1


def test_saving_no_region_keeps_an_examination_without_classification(exam):
    saved = save(exam, [])

    assert saved.pk is not None
    assert not saved.regions.exists()
    assert not ClassificationReview.objects.exists()


def test_the_audit_trail_holds_counts_never_clinical_content(exam):
    before = _last_audit_pk()
    save(exam, [NECK, RIGHT_ARM], features=["myoclonus"], notes="Geste present.")

    details = " ".join(
        AuditEntry.objects.filter(pk__gt=before).values_list("detail", flat=True)
    ).lower()
    assert "2 sites" in details
    for clinical in ("neck", "limb", "myoclonus", "geste", "segmental", "head turned"):
        assert clinical not in details
    assert AuditEntry.objects.filter(
        pk__gt=before, object_type="examination", action="create", outcome="allowed"
    ).exists()


def test_text_is_trimmed_and_windows_newlines_kept_as_one(exam):
    saved = save(exam, [SiteFinding("neck", posture="  a\r\nb  ")], notes=" n ")

    assert saved.regions.get().posture == "a\nb"
    assert saved.notes == "n"


# Concurrency


def test_a_save_made_elsewhere_meanwhile_is_not_overwritten(exam):
    first = save(exam, [NECK])
    seen = first.updated_at
    save(exam, [RIGHT_ARM])  # another tab
    before = _writes()

    with pytest.raises(examination.ExaminationRefused) as refused:
        examination.examination_save(
            context=context_of(exam["clinician"]),
            encounter_id=exam["encounter"].pk,
            sites=[SiteFinding("trunk")],
            associated_features=[],
            expected_updated_at=seen,
        )

    assert (refused.value.message, refused.value.status) == (examination.STALE, 409)
    assert _writes() == before


def test_a_first_save_is_refused_when_another_made_the_examination_meanwhile(exam):
    save(exam, [NECK])
    before = _writes()

    with pytest.raises(examination.ExaminationRefused) as refused:
        examination.examination_save(
            context=context_of(exam["clinician"]),
            encounter_id=exam["encounter"].pk,
            sites=[RIGHT_ARM],
            associated_features=[],
            expected_updated_at=None,
        )

    assert refused.value.status == 409
    assert _writes() == before


# Bad input: refused, audited, nothing written


@pytest.mark.parametrize(
    "case",
    [
        ([SiteFinding("elbow")], [], "", examination.BAD_REGION, "sites"),
        ([SiteFinding("upper_limb")], [], "", examination.BAD_SIDE, "sites"),
        ([SiteFinding("upper_limb", "middle")], [], "", examination.BAD_SIDE, "sites"),
        ([SiteFinding("neck", "left")], [], "", examination.BAD_SIDE, "sites"),
        ([SiteFinding("neck"), SiteFinding("neck")], [], "", examination.DUPLICATE_SITE, "sites"),
        ([NECK], ["hiccups"], "", examination.BAD_FEATURE, "associated_features"),
        ([NECK], [3], "", examination.BAD_FEATURE, "associated_features"),
        ([NECK], "tremor", "", examination.BAD_FEATURE, "associated_features"),
        ("neck", [], "", examination.BAD_REGION, "sites"),
        (["neck"], [], "", examination.BAD_REGION, "sites"),
        ([SiteFinding(None)], [], "", examination.BAD_REGION, "sites"),  # type: ignore[arg-type]
        (
            [SiteFinding("neck", posture="x" * 501)],
            [],
            "",
            examination.POSTURE_TOO_LONG,
            "neck_posture",
        ),
        (
            [SiteFinding("upper_limb", "left", movement="x" * 501)],
            [],
            "",
            examination.MOVEMENT_TOO_LONG,
            "upper_limb_left_movement",
        ),
        ([SiteFinding("neck", posture="a\x00b")], [], "", encounters.NUL_CHARACTER, "neck_posture"),
        ([SiteFinding("neck", posture=7)], [], "", examination.BAD_TEXT, "neck_posture"),  # type: ignore[arg-type]
        ([SiteFinding("neck", tremor="yes")], [], "", examination.BAD_FLAG, "neck_tremor"),  # type: ignore[arg-type]
        ([NECK], [], "x" * 10_001, examination.NOTES_TOO_LONG, "notes"),
        ([NECK], [], "\x00", encounters.NUL_CHARACTER, "notes"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(exam, case):
    sites, features, notes, *expected = case
    before, audit_before = _writes(), _last_audit_pk()

    with pytest.raises(examination.ExaminationRefused) as refused:
        examination.examination_save(
            context=context_of(exam["clinician"]),
            encounter_id=exam["encounter"].pk,
            sites=sites,
            associated_features=features,
            notes=notes,
            expected_updated_at=None,
        )

    assert (refused.value.message, refused.value.field, refused.value.status) == (*expected, 400)
    assert _writes() == before
    refusals = AuditEntry.objects.filter(pk__gt=audit_before, outcome="refused")
    assert refusals.count() == 1
    assert "x" * 20 not in refusals.get().detail


# Who


def test_only_the_author_saves_a_draft(exam):
    colleague = factories.user(role=Role.CLINICIAN)

    with pytest.raises(examination.ExaminationRefused) as refused:
        save(exam, [NECK], user=colleague)

    assert refused.value.status == 403
    assert "Dr Ann" in refused.value.message
    assert not Examination.objects.exists()


def test_a_signed_encounter_is_locked(exam):
    save(exam, [])  # no classification to decide
    encounters.encounter_sign(
        context=context_of(exam["clinician"]), encounter_id=exam["encounter"].pk
    )
    before = _writes()

    with pytest.raises(examination.ExaminationRefused) as refused:
        save(exam, [NECK])

    assert (refused.value.message, refused.value.status) == (encounters.LOCKED, 409)
    assert _writes() == before


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_are_refused_and_audited(exam, role):
    with pytest.raises(AccessRefused) as refused:
        save(exam, [NECK], user=exam["staff"][role])

    # An encounter's existence is told to clinicians only (docs/clinical-record.md).
    assert refused.value.reveal is False
    assert not Examination.objects.exists()
    assert AuditEntry.objects.filter(actor=exam["staff"][role], outcome="refused").exists()


def test_a_patient_is_refused(exam, patient_user):
    with pytest.raises(AccessRefused) as refused:
        save(exam, [NECK], user=patient_user)

    assert refused.value.reveal is False
    assert not Examination.objects.exists()


def test_an_unknown_encounter_is_not_found_and_audited(exam):
    with pytest.raises(EncounterNotFound):
        examination.examination_save(
            context=context_of(exam["clinician"]),
            encounter_id=999_999,
            sites=[NECK],
            associated_features=[],
            expected_updated_at=None,
        )

    assert AuditEntry.objects.filter(object_id="999999", outcome="refused").exists()


# The page: body diagram and equivalent form


def _url(exam) -> str:
    return f"/records/encounters/{exam['encounter'].pk}/examination/"


def test_the_page_has_a_body_diagram_with_twelve_accessible_sites_and_the_form(client, exam):
    sign_in(client, exam["clinician"])
    page = client.get(_url(exam)).content.decode()

    shapes = re.findall(r'<g class="body-site" role="checkbox" tabindex="0" [^>]*>', page)
    labels = [re.search(r'aria-label="([^"]+)"', shape).group(1) for shape in shapes]
    assert sorted(labels) == sorted(site.label for site in SITES)
    assert "Right upper limb" in labels
    assert all('aria-checked="false"' in shape for shape in shapes)
    assert "the patient's right is on your left" in page
    assert 'src="/static/clinic/body-diagram.js" defer' in page
    assert '<figure class="body-diagram" data-body-diagram hidden>' in page
    # The equivalent form: one fieldset per site, with its "Involved" box named after it.
    assert page.count('class="choice-group examination-site') == len(SITES)
    assert 'id="id_upper_limb_right_involved"' in page
    assert '<span class="visually-hidden">Right upper limb: </span>Involved' in page
    assert "style=" not in page
    assert " onclick" not in page


def test_posting_the_form_saves_and_shows_the_findings_on_the_encounter(client, exam):
    sign_in(client, exam["clinician"])
    response = client.post(
        _url(exam),
        form_data(
            "neck",
            "upper_limb_right",
            neck_posture="Head turned to the left",
            upper_limb_right_task_specific="on",
            associated_features=["myoclonus"],
        ),
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"/records/encounters/{exam['encounter'].pk}/#examination")
    saved = Examination.objects.get()
    assert sorted(saved.regions.values_list("region", "side", "task_specific")) == [
        ("neck", "", False),
        ("upper_limb", "right", True),
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Head turned to the left" in page
    assert "Myoclonus" in page


def test_a_saved_examination_shows_marked_on_the_diagram_and_the_form(client, exam):
    save(exam, [RIGHT_ARM])
    sign_in(client, exam["clinician"])
    page = client.get(_url(exam)).content.decode()

    assert re.search(r'aria-checked="true" aria-label="Right upper limb"', page)
    assert re.search(
        r'id="id_upper_limb_right_involved" data-involved="upper_limb_right" checked', page
    )
    assert "Wrist flexed when writing" in page


def test_details_of_a_site_not_ticked_are_not_dropped_silently(client, exam):
    sign_in(client, exam["clinician"])
    response = client.post(_url(exam), form_data(neck_posture="Head tilted"))

    assert response.status_code == 400
    assert escape(examination.DETAILS_WITHOUT_INVOLVED) in response.content.decode()
    assert "Head tilted" in response.content.decode()
    assert not Examination.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form_data("neck", neck_posture="x" * 501), examination.POSTURE_TOO_LONG),
        (form_data("neck", neck_movement="a\x00b"), encounters.NUL_CHARACTER),
        (form_data("neck", notes="\x00"), encounters.NUL_CHARACTER),
        (form_data("neck", associated_features=["hiccups"]), examination.BAD_FEATURE),
        (form_data("neck", version="yesterday"), OUT_OF_DATE),
        (form_data("neck", version="2026-01-01T10:00:00"), OUT_OF_DATE),
        ({"neck_involved": "on"}, OUT_OF_DATE),
    ],
)
def test_bad_form_input_is_400_with_the_message_and_nothing_written(client, exam, data, message):
    sign_in(client, exam["clinician"])
    response = client.post(_url(exam), data)

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not Examination.objects.exists()


def test_unknown_site_fields_are_ignored_not_stored(client, exam):
    sign_in(client, exam["clinician"])
    response = client.post(_url(exam), form_data("neck", elbow_involved="on"))

    assert response.status_code == 302
    assert list(RegionFinding.objects.values_list("region", flat=True)) == ["neck"]


def test_a_stale_form_shows_the_saved_examination_and_keeps_the_entries(client, exam):
    sign_in(client, exam["clinician"])
    page = client.get(_url(exam)).content.decode()
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    save(exam, [NECK])  # another tab

    response = client.post(_url(exam), form_data("trunk", version=version, trunk_posture="Bent"))

    body = response.content.decode()
    assert response.status_code == 409
    assert "The examination as saved now" in body
    assert "Head turned to the left" in body
    assert "Bent" in body
    assert list(RegionFinding.objects.values_list("region", flat=True)) == ["neck"]
    # The form now carries the saved version: sending it again is a choice made with both in view.
    again = re.search(r'name="version" value="([^"]+)"', body).group(1)
    assert client.post(_url(exam), form_data("trunk", version=again)).status_code == 302


def test_script_in_findings_is_escaped(client, exam):
    save(exam, [SiteFinding("neck", posture=SCRIPT)], notes=SCRIPT)
    sign_in(client, exam["clinician"])

    for url in (_url(exam), f"/records/encounters/{exam['encounter'].pk}/"):
        page = client.get(url).content.decode()
        assert SCRIPT not in page
        assert escape(SCRIPT) in page


def test_another_clinician_sees_it_read_only_and_cannot_post(client, exam):
    save(exam, [NECK])
    colleague = factories.user(role=Role.CLINICIAN)
    sign_in(client, colleague)
    page = client.get(_url(exam))
    before = _writes()
    posted = client.post(_url(exam), form_data("trunk", version="new"))

    assert page.status_code == 200
    assert "Only the clinician who saw the patient (Dr Ann)" in page.content.decode()
    assert "Save the examination" not in page.content.decode()
    assert posted.status_code == 403
    assert _writes() == before


def test_a_signed_encounters_examination_page_is_read_only_and_a_post_is_409(client, exam):
    save(exam, [])
    encounters.encounter_sign(
        context=context_of(exam["clinician"]), encounter_id=exam["encounter"].pk
    )
    sign_in(client, exam["clinician"])
    page = client.get(_url(exam)).content.decode()
    posted = client.post(_url(exam), form_data("neck", version="new"))

    assert escape(encounters.LOCKED) in page
    assert "Save the examination" not in page
    assert posted.status_code == 409
    assert not RegionFinding.objects.exists()


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_non_clinicians_get_404_for_the_page_and_nothing_is_written(
    client, exam, role, patient_user
):
    user = patient_user if role == Role.PATIENT else exam["staff"][role]
    sign_in(client, user, second_factor=role != Role.PATIENT)
    before = _last_audit_pk()

    assert client.get(_url(exam)).status_code == 404
    assert client.post(_url(exam), form_data("neck")).status_code == 404
    assert not Examination.objects.exists()
    outcomes = set(AuditEntry.objects.filter(pk__gt=before).values_list("outcome", flat=True))
    assert outcomes == {"refused"}


def test_a_clinician_without_two_factor_is_sent_to_it(client, exam):
    sign_in(client, exam["clinician"], second_factor=False)

    response = client.post(_url(exam), form_data("neck"))

    assert response.status_code in {302, 403}
    assert not Examination.objects.exists()


def test_the_encounter_page_has_no_examination_section_for_non_clinicians(client, exam):
    # Their encounter page is 404 already; the section's selector also answers None.
    context = context_of(exam["staff"][Role.RECEPTION])
    assert examination_section(context=context, encounter=exam["encounter"]) is None


# Properties


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=520))
def test_any_posture_is_stored_as_given_or_refused_with_nothing_written(exam, text):
    before = _writes()
    stored = text.replace("\r\n", "\n").strip()
    if "\x00" in text or len(stored) > 500:
        with pytest.raises(examination.ExaminationRefused) as refused:
            save(exam, [SiteFinding("neck", posture=text)])
        assert refused.value.status == 400
        assert _writes() == before
    else:
        saved = save(exam, [SiteFinding("neck", posture=text)])
        assert saved.regions.get().posture == stored
