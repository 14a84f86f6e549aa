"""The history taken at an encounter: saved by the encounter's clinician while a draft, locked
once signed, never overwritten by an out-of-date page; the age at onset within the patient's
age on the encounter's day; clinicians only, every access audited, nothing written on a
refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records import history
from clinic.records.access import AccessRefused
from clinic.records.encounters import LOCKED, NUL_CHARACTER, EncounterNotFound
from clinic.records.history import HistoryDetails, HistoryRefused
from clinic.records.models import DrugExposure, Encounter, EncounterKind, FamilyMember, History
from clinic.scheduling.availability import clinic_tz
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

REFRESH = "clinic.records.classification.refresh_review"

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
BORN = date(1970, 6, 15)
# The day before the patient's 54th birthday: they are 53 on the encounter's day.
SEEN = datetime(2024, 6, 14, 10, 0, tzinfo=clinic_tz())
AGE_ON_THE_DAY = 53
FULL = HistoryDetails(
    presenting_complaint="Neck pulling to the left for two years.",
    age_at_onset_years=51,
    first_region="neck",
    spread="Now the right shoulder too.",
    triggers="Stress, long drives.",
    sensory_tricks="A hand on the chin.",
    better_with="Lying down",
    worse_with="Walking",
    course="progressive",
    variability=["action_specific", "persistent"],
)


@pytest.fixture
def setting(db, staff):
    """A clinician, their draft encounter with a patient aged 53 on its day, a colleague."""
    site = factories.site()
    clinician = factories.user(role=Role.CLINICIAN, full_name="Dr Ann Author")
    patient_user = factories.user(role=Role.PATIENT)
    patient = factories.patient(user=patient_user, date_of_birth=BORN)
    encounter = Encounter.objects.create(
        patient=patient,
        kind=EncounterKind.CONSULTATION,
        clinician=clinician,
        site=site,
        started_at=SEEN,
    )
    return {
        "clinician": clinician,
        "colleague": factories.user(role=Role.CLINICIAN),
        "patient": patient,
        "patient_user": patient_user,
        "encounter": encounter,
        "staff": staff,
        "site": site,
    }


def _save(setting, details=FULL, *, user=None, expected=None, encounter=None):
    return history.history_save(
        context=context_of(user or setting["clinician"]),
        encounter_id=(encounter or setting["encounter"]).pk,
        details=details,
        expected_updated_at=expected,
    )


def _refused(setting, details, **kwargs) -> HistoryRefused:
    with pytest.raises(HistoryRefused) as refused:
        _save(setting, details, **kwargs)
    return refused.value


def _sign(encounter, user):
    Encounter.objects.filter(pk=encounter.pk).update(signed_at=timezone.now(), signed_by=user)


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _with(**changes) -> HistoryDetails:
    return HistoryDetails(**{**FULL.__dict__, **changes})


# Saving


def test_the_clinician_takes_the_history_of_their_draft(setting):
    saved = _save(setting)

    stored = History.objects.get(encounter=setting["encounter"])
    assert stored == saved
    assert stored.presenting_complaint == FULL.presenting_complaint
    assert stored.age_at_onset_years == 51
    assert stored.first_region == "neck"
    assert stored.first_side == ""
    assert stored.course == "progressive"
    # In the order of the list of choices, whatever order they came in.
    assert stored.variability == ["persistent", "action_specific"]
    entry = AuditEntry.objects.filter(object_type="history").get()
    assert (entry.action, entry.outcome, entry.patient) == ("create", "allowed", setting["patient"])
    assert entry.object_id == str(saved.pk)
    assert entry.detail == "history saved (10 of 11 parts recorded)"


def test_a_second_save_changes_the_same_history(setting):
    first = _save(setting)
    again = _save(setting, _with(presenting_complaint="Changed"), expected=first.updated_at)

    assert again.pk == first.pk
    assert History.objects.get().presenting_complaint == "Changed"
    assert AuditEntry.objects.filter(object_type="history", action="update").count() == 1


def test_an_empty_history_can_be_saved_and_a_limb_needs_its_side(setting):
    empty = _save(setting, HistoryDetails())
    limb = _with(first_region="upper_limb", first_side="right")
    saved = _save(setting, limb, expected=empty.updated_at)

    assert empty.age_at_onset_years is None
    assert (saved.first_region, saved.first_side) == ("upper_limb", "right")


def test_audit_entries_never_hold_the_historys_words(setting):
    secret = _with(presenting_complaint="Secret words", triggers="More secret words")
    _save(setting, secret)
    _refused(setting, _with(presenting_complaint="Secret words", age_at_onset_years=99))

    details = " ".join(AuditEntry.objects.values_list("detail", flat=True))
    assert "Secret" not in details
    assert "99" not in details
    assert str(AGE_ON_THE_DAY) not in details


# The age at onset


@pytest.mark.parametrize("age", [0, 1, 30, AGE_ON_THE_DAY, None])
def test_an_age_at_onset_from_0_to_the_patients_age_is_accepted(setting, age):
    assert _save(setting, _with(age_at_onset_years=age)).age_at_onset_years == age


@pytest.mark.parametrize(
    ("age", "message"),
    [
        (-1, history.AGE_NEGATIVE),
        (AGE_ON_THE_DAY + 1, None),  # born 54 years ago tomorrow: not yet 54
        (200, None),
        (10**20, None),
        ("12", history.BAD_AGE),
        (12.5, history.BAD_AGE),
        (True, history.BAD_AGE),
        ([12], history.BAD_AGE),
    ],
)
def test_an_age_at_onset_out_of_range_or_not_a_number_is_refused(setting, age, message):
    before = _last_audit_pk()

    refused = _refused(setting, _with(age_at_onset_years=age))

    expected = message or history.AGE_OVER_PATIENT.format(age=f"{AGE_ON_THE_DAY} years")
    assert refused.message == expected
    assert refused.field == "age_at_onset_years"
    assert refused.status == 400
    assert not History.objects.exists()
    entry = AuditEntry.objects.get(pk__gt=before)
    assert (entry.outcome, entry.patient) == ("refused", setting["patient"])


def test_the_message_says_the_patients_age(setting):
    refused = _refused(setting, _with(age_at_onset_years=60))

    assert "(53 years)" in refused.message
    assert "after the encounter" in refused.message


def test_the_patients_age_is_taken_on_the_encounters_day_in_the_clinics_time_zone(setting):
    # 23:30 UTC on the 14th is 00:30 on the 15th in London (summer time): their birthday.
    late = Encounter.objects.create(
        patient=setting["patient"],
        kind=EncounterKind.FOLLOW_UP,
        clinician=setting["clinician"],
        site=setting["site"],
        started_at=datetime(2024, 6, 14, 23, 30, tzinfo=UTC),
    )

    saved = _save(setting, _with(age_at_onset_years=54), encounter=late)

    assert saved.age_at_onset_years == 54


def test_a_patient_seen_on_their_day_of_birth_can_only_have_onset_at_0(setting):
    newborn = factories.patient(date_of_birth=date(2024, 6, 14))
    encounter = Encounter.objects.create(
        patient=newborn,
        kind=EncounterKind.CONSULTATION,
        clinician=setting["clinician"],
        site=setting["site"],
        started_at=SEEN,
    )

    assert _save(setting, _with(age_at_onset_years=0), encounter=encounter).age_at_onset_years == 0
    refused = _refused(setting, _with(age_at_onset_years=1), encounter=encounter)
    assert refused.message == history.AGE_OVER_PATIENT.format(age="0 years")


def _turned(born: date, age: int) -> date:
    """The day someone born on ``born`` turned ``age`` (a 29 February birthday is kept on
    1 March in other years): an independent statement of "completed years"."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return date(born.year + age, 3, 1)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    days_later=st.integers(min_value=0, max_value=130 * 366),
    age=st.integers(min_value=-5, max_value=140),
)
def test_an_age_at_onset_is_accepted_exactly_from_0_to_the_age_on_the_day(born, days_later, age):
    on = born + timedelta(days=days_later)
    expected = 0 <= age <= 130 and _turned(born, age) <= on if age >= 0 else False

    try:
        history.check_age_at_onset(age, born=born, on=on)
    except HistoryRefused:
        accepted = False
    else:
        accepted = True

    assert accepted == expected


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(age=st.integers(min_value=-3, max_value=AGE_ON_THE_DAY + 60))
def test_the_service_saves_an_age_at_onset_exactly_when_it_is_within_the_patients_age(setting, age):
    History.objects.all().delete()

    try:
        _save(setting, _with(age_at_onset_years=age))
    except HistoryRefused:
        saved = False
    else:
        saved = True

    assert saved == (0 <= age <= AGE_ON_THE_DAY)
    assert History.objects.exists() == saved


# Other bad input


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_region": "upper_limb", "first_side": ""}, "first_side", history.SIDE_REQUIRED),
        ({"first_region": "lower_limb", "first_side": "both"}, "first_side", history.SIDE_REQUIRED),
        (
            {"first_region": "neck", "first_side": "left"},
            "first_side",
            history.SIDE_ONLY_FOR_A_LIMB,
        ),
        ({"first_region": "", "first_side": "left"}, "first_side", history.SIDE_ONLY_FOR_A_LIMB),
        ({"first_region": "elbow"}, "first_region", history.BAD_REGION),
        ({"first_region": ["neck"]}, "first_region", history.BAD_REGION),
        ({"course": "wavy"}, "course", history.BAD_COURSE),
        ({"course": None}, "course", history.BAD_COURSE),
        ({"variability": ["sometimes"]}, "variability", history.BAD_VARIABILITY),
        ({"variability": "persistent"}, "variability", history.BAD_VARIABILITY),
        ({"variability": [["persistent"]]}, "variability", history.BAD_VARIABILITY),
        ({"presenting_complaint": "x" * 5_001}, "presenting_complaint", None),
        ({"sensory_tricks": "a\x00b"}, "sensory_tricks", NUL_CHARACTER),
        ({"triggers": 12}, "triggers", history.BAD_TEXT),
        ({"worse_with": None}, "worse_with", history.BAD_TEXT),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    setting, changes, field, message
):
    refused = _refused(setting, _with(**changes))

    assert refused.field == field
    if message:
        assert refused.message == message
    assert refused.status == 400
    assert not History.objects.exists()


def test_text_at_the_limit_is_kept_and_windows_line_endings_become_newlines(setting):
    saved = _save(setting, _with(presenting_complaint="x" * 5_000, spread="one\r\ntwo"))

    assert len(saved.presenting_complaint) == 5_000
    assert saved.spread == "one\ntwo"


def test_duplicate_variability_is_stored_once(setting):
    saved = _save(setting, _with(variability=["diurnal", "diurnal", "paroxysmal"]))

    assert saved.variability == ["diurnal", "paroxysmal"]


# Drafts, locks and versions


def test_a_signed_encounters_history_is_locked(setting):
    saved = _save(setting)
    _sign(setting["encounter"], setting["clinician"])

    refused = _refused(setting, _with(presenting_complaint="Late"), expected=saved.updated_at)

    assert (refused.message, refused.status) == (LOCKED, 409)
    assert History.objects.get().presenting_complaint == FULL.presenting_complaint


def test_a_first_history_cannot_be_added_once_signed(setting):
    _sign(setting["encounter"], setting["clinician"])

    assert _refused(setting, FULL).status == 409
    assert not History.objects.exists()


def test_only_the_encounters_clinician_saves_its_history(setting):
    before = _last_audit_pk()

    refused = _refused(setting, FULL, user=setting["colleague"])

    assert refused.status == 403
    assert "Dr Ann Author" in refused.message
    assert not History.objects.exists()
    entry = AuditEntry.objects.get(pk__gt=before)
    assert (entry.outcome, entry.actor) == ("refused", setting["colleague"])


def test_a_save_from_an_out_of_date_page_never_overwrites(setting):
    seen = _save(setting)  # two tabs open the same history
    _save(setting, _with(presenting_complaint="First tab"), expected=seen.updated_at)

    refused = _refused(setting, _with(presenting_complaint="Second tab"), expected=seen.updated_at)

    assert (refused.message, refused.status) == (history.HISTORY_STALE, 409)
    assert History.objects.get().presenting_complaint == "First tab"


def test_a_first_save_made_after_someone_else_saved_one_is_out_of_date(setting):
    _save(setting, _with(presenting_complaint="Other tab"))

    refused = _refused(setting, _with(presenting_complaint="Mine"), expected=None)

    assert refused.status == 409
    assert History.objects.get().presenting_complaint == "Other tab"


# Who


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_cannot_save_a_history(setting, role):
    user = setting["staff"][role]
    before = _last_audit_pk()

    with pytest.raises(AccessRefused) as refused:
        _save(setting, user=user)

    assert not refused.value.reveal  # asked by the encounter's id: 404
    assert not History.objects.exists()
    entry = AuditEntry.objects.get(pk__gt=before)
    assert (entry.outcome, entry.actor, entry.patient) == ("refused", user, setting["patient"])


def test_a_patient_cannot_write_even_their_own_history(setting):
    with pytest.raises(AccessRefused) as refused:
        _save(setting, user=setting["patient_user"])

    assert not refused.value.reveal
    assert not History.objects.exists()


def test_a_clinician_without_two_factor_is_refused(setting):
    with pytest.raises(AccessRefused):
        history.history_save(
            context=AuditContext(actor=setting["clinician"]),
            encounter_id=setting["encounter"].pk,
            details=FULL,
            expected_updated_at=None,
        )

    assert not History.objects.exists()


def test_an_unknown_encounter_is_not_found_and_audited(setting):
    with pytest.raises(EncounterNotFound):
        history.history_save(
            context=context_of(setting["clinician"]),
            encounter_id=999_999,
            details=FULL,
            expected_updated_at=None,
        )

    assert AuditEntry.objects.filter(outcome="refused", object_id="999999").exists()


# The classification is refreshed in the same transaction


def test_saving_refreshes_this_encounters_classification_in_the_same_transaction(
    setting, monkeypatch
):
    Encounter.objects.create(  # a colleague's draft with the same patient
        patient=setting["patient"],
        kind=EncounterKind.CONSULTATION,
        clinician=setting["colleague"],
        site=setting["site"],
        started_at=SEEN,
    )
    calls = []
    monkeypatch.setattr(REFRESH, lambda encounter, **kwargs: calls.append(encounter.pk))
    _save(setting)
    # This encounter's only: the other draft does not read this history, and locking it too
    # deadlocked two clinicians saving the histories of two drafts of one patient.
    assert calls == [setting["encounter"].pk]

    def broken(encounter, **kwargs):
        raise RuntimeError("classification failed")

    monkeypatch.setattr(REFRESH, broken)
    with pytest.raises(RuntimeError):
        _save(
            setting, _with(presenting_complaint="Lost"), expected=History.objects.get().updated_at
        )

    assert History.objects.get().presenting_complaint == FULL.presenting_complaint


# Through the pages


def _form(details=FULL, updated_at=""):
    data = {name: value for name, value in details.__dict__.items() if name != "variability"}
    data = {name: "" if value is None else value for name, value in data.items()}
    data["variability"] = details.variability
    data["updated_at"] = updated_at
    return data


def _url(setting):
    return f"/records/encounters/{setting['encounter'].pk}/history/"


def test_a_clinician_takes_the_history_through_the_pages(client, setting):
    sign_in(client, setting["clinician"])
    encounter_page = f"/records/encounters/{setting['encounter'].pk}/"

    assert "Take the history" in client.get(encounter_page).content.decode()
    form = client.get(_url(setting))
    assert form.status_code == 200
    assert "Save history" in form.content.decode()
    assert "from 0 to 53" in form.content.decode()
    saved = client.post(_url(setting), _form())
    assert saved.status_code == 302
    assert saved.url == encounter_page + "#history"

    page = client.get(encounter_page).content.decode()
    assert "Neck pulling to the left" in page
    assert "51 years" in page
    assert "Persistent, Action-specific" in page
    assert "Edit history" in page
    assert page.index('id="history-heading"') < page.index('id="notes-heading"')
    again = client.get(_url(setting)).content.decode()
    stored = History.objects.get()
    assert f'value="{stored.updated_at.isoformat()}"' in again


def test_bad_input_on_the_page_is_shown_beside_its_field_and_nothing_is_written(client, setting):
    sign_in(client, setting["clinician"])

    cases = [
        ({"age_at_onset_years": "-1"}, history.AGE_NEGATIVE),
        ({"age_at_onset_years": "abc"}, history.BAD_AGE),
        ({"age_at_onset_years": "1e3"}, history.BAD_AGE),
        ({"age_at_onset_years": "60"}, "(53 years)"),
        ({"first_region": "upper_limb", "first_side": ""}, history.SIDE_REQUIRED),
        ({"first_region": "wing"}, history.BAD_REGION),
        ({"course": "sideways"}, history.BAD_COURSE),
        ({"variability": ["sometimes"]}, history.BAD_VARIABILITY),
        ({"triggers": "x" * 5_001}, "Triggers can be at most 5,000 characters."),
        ({"spread": "a\x00b"}, NUL_CHARACTER),
        ({"updated_at": "yesterday"}, "This page is out of date"),
    ]
    for changes, message in cases:
        response = client.post(_url(setting), {**_form(), **changes})
        assert response.status_code == 400, changes
        assert message in response.content.decode(), changes
    assert not History.objects.exists()


def test_a_million_characters_are_refused(client, setting):
    sign_in(client, setting["clinician"])

    response = client.post(_url(setting), _form(_with(presenting_complaint="x" * 1_000_000)))

    assert response.status_code == 400
    assert not History.objects.exists()


def test_script_in_the_history_is_shown_as_text(client, setting):
    _save(setting, _with(presenting_complaint=SCRIPT, worse_with=SCRIPT))
    sign_in(client, setting["clinician"])

    page = client.get(f"/records/encounters/{setting['encounter'].pk}/").content.decode()
    form = client.get(_url(setting)).content.decode()

    assert SCRIPT not in page
    assert page.count(ESCAPED) == 2
    assert SCRIPT not in form


def test_another_clinician_reads_the_history_but_cannot_save_it(client, setting):
    _save(setting)
    sign_in(client, setting["colleague"])

    page = client.get(_url(setting))
    refused = client.post(_url(setting), _form(_with(presenting_complaint="Colleague's words")))

    assert page.status_code == 200
    assert "Save history" not in page.content.decode()
    assert "Neck pulling to the left" in page.content.decode()
    assert (
        "Edit history"
        not in client.get(f"/records/encounters/{setting['encounter'].pk}/").content.decode()
    )
    assert refused.status_code == 403
    assert "Colleague&#x27;s words" in refused.content.decode()  # kept to copy
    assert History.objects.get().presenting_complaint == FULL.presenting_complaint


def test_a_save_after_signing_is_409_and_keeps_the_writers_entries(client, setting):
    sign_in(client, setting["clinician"])
    client.post(_url(setting), _form())
    stored = History.objects.get()
    _sign(setting["encounter"], setting["clinician"])

    late = client.post(
        _url(setting),
        _form(_with(presenting_complaint="Late words"), stored.updated_at.isoformat()),
    )
    encounter_page = client.get(f"/records/encounters/{setting['encounter'].pk}/").content.decode()

    assert late.status_code == 409
    assert LOCKED in late.content.decode()
    assert "Late words" in late.content.decode()
    assert "Save history" not in late.content.decode()
    assert "Edit history" not in encounter_page
    assert History.objects.get().presenting_complaint == FULL.presenting_complaint


def test_a_stale_page_shows_both_versions_and_saving_again_is_a_choice(client, setting):
    seen = _save(setting)
    _save(setting, _with(presenting_complaint="Saved in another tab"), expected=seen.updated_at)
    sign_in(client, setting["clinician"])

    response = client.post(
        _url(setting), _form(_with(presenting_complaint="Mine"), seen.updated_at.isoformat())
    )

    page = response.content.decode()
    current = History.objects.get()
    assert response.status_code == 409
    assert history.HISTORY_STALE.split(",")[0] in page
    assert "Saved in another tab" in page
    assert "Mine</textarea>" in page
    assert f'value="{current.updated_at.isoformat()}"' in page
    assert current.presenting_complaint == "Saved in another tab"
    again = client.post(
        _url(setting), _form(_with(presenting_complaint="Mine"), current.updated_at.isoformat())
    )
    assert again.status_code == 302
    assert History.objects.get().presenting_complaint == "Mine"


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN, Role.PATIENT])
def test_the_history_page_is_not_found_for_anyone_but_clinicians(client, setting, role):
    _save(setting)
    user = setting["patient_user"] if role == Role.PATIENT else setting["staff"][role]
    sign_in(client, user, second_factor=role != Role.PATIENT)
    before = _last_audit_pk()

    responses = [client.get(_url(setting)), client.post(_url(setting), _form())]

    assert [r.status_code for r in responses] == [404, 404]
    assert "Neck pulling" not in "".join(r.content.decode() for r in responses)
    assert History.objects.get().presenting_complaint == FULL.presenting_complaint
    outcomes = set(AuditEntry.objects.filter(pk__gt=before).values_list("outcome", flat=True))
    assert outcomes == {"refused"}


def test_an_unknown_encounters_history_page_is_404(client, setting):
    sign_in(client, setting["clinician"])

    assert client.get("/records/encounters/999999/history/").status_code == 404
    assert client.post("/records/encounters/999999/history/", _form()).status_code == 404


def test_reading_the_history_is_audited_without_its_words(client, setting):
    _save(setting)
    sign_in(client, setting["colleague"])
    before = _last_audit_pk()

    client.get(f"/records/encounters/{setting['encounter'].pk}/")

    reads = AuditEntry.objects.filter(pk__gt=before, object_type="history", action="read")
    assert list(reads.values_list("detail", flat=True)) == [
        f"history of encounter {setting['encounter'].pk}"
    ]


# No form input gives a 500

FORM_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", "-1", "1e3", "999999999999999999999", "\x00", "2024-02-30", "neck"]),
    st.lists(st.text(max_size=20), max_size=3),
)
HISTORY_FIELDS = [*HistoryDetails.__dataclass_fields__, "updated_at"]
OTHER_FIELDS = [
    "relationship",
    "condition",
    "has_dystonia",
    "age_at_onset_years",
    "notes",
    "drug",
    "dopamine_receptor_blocker",
    "started_on",
    "stopped_on",
]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.dictionaries(st.sampled_from(HISTORY_FIELDS + OTHER_FIELDS), FORM_VALUES, max_size=8),
    page=st.sampled_from(["history", "relative", "drug", "stop"]),
)
def test_no_form_input_gives_a_500_and_a_refusal_writes_nothing(client, setting, data, page):
    sign_in(client, setting["clinician"])
    patient = setting["patient"]
    drug, _ = DrugExposure.objects.get_or_create(
        patient=patient, drug="Levodopa", defaults={"recorded_by": setting["clinician"]}
    )
    DrugExposure.objects.filter(pk=drug.pk).update(stopped_on=None)
    url = {
        "history": _url(setting),
        "relative": f"/records/patients/{patient.pk}/relatives/new/",
        "drug": f"/records/patients/{patient.pk}/drugs/new/",
        "stop": f"/records/drugs/{drug.pk}/stop/",
    }[page]
    counts = (History.objects.count(), FamilyMember.objects.count(), DrugExposure.objects.count())

    response = client.post(url, data)

    assert response.status_code < 500
    if response.status_code >= 400:
        after = (
            History.objects.count(),
            FamilyMember.objects.count(),
            DrugExposure.objects.count(),
        )
        assert after == counts
        assert DrugExposure.objects.get(pk=drug.pk).stopped_on is None
