"""The family history: relatives with their condition and age at onset, the hereditary flag
derived from them, and the pedigree table by generation and side of the family; any
clinician writes it, nobody else reads it, every access audited, nothing written on a
refusal."""

from __future__ import annotations

import pytest
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import family
from clinic.records.access import AccessRefused
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.family import Generation, RelativeDetails
from clinic.records.history import HistoryRefused
from clinic.records.models import FamilyMember, Relationship
from clinic.records.selectors import PatientNotFound
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

REFRESH = "clinic.records.classification.refresh_reviews_for_patient"

SCRIPT = "<script>alert(1)</script>"
MOTHER = RelativeDetails(
    relationship="mother", condition="Cervical dystonia", has_dystonia=True, age_at_onset_years=45
)
UNCLE = RelativeDetails(relationship="paternal_uncle", condition="Essential tremor")


@pytest.fixture
def setting(db, staff):
    patient_user = factories.user(role=Role.PATIENT)
    return {
        "clinician": factories.user(role=Role.CLINICIAN),
        "colleague": factories.user(role=Role.CLINICIAN),
        "patient": factories.patient(user=patient_user),
        "patient_user": patient_user,
        "staff": staff,
    }


def _add(setting, details=MOTHER, *, user=None, patient=None):
    return family.relative_add(
        context=context_of(user or setting["clinician"]),
        patient_id=(patient or setting["patient"]).pk,
        details=details,
    )


def _refused(setting, details) -> HistoryRefused:
    with pytest.raises(HistoryRefused) as refused:
        _add(setting, details)
    return refused.value


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _section(setting):
    return family.family_section(
        context=context_of(setting["clinician"]), patient=setting["patient"]
    )


# Relatives and the hereditary flag


def test_a_clinician_adds_relatives_and_a_relative_with_dystonia_sets_the_flag(setting):
    patient = setting["patient"]
    assert not family.hereditary_flag(patient)

    _add(setting, UNCLE)
    assert not family.hereditary_flag(patient)
    mother = _add(setting, MOTHER)

    assert family.hereditary_flag(patient)
    assert mother.recorded_by == setting["clinician"]
    assert (mother.condition, mother.age_at_onset_years) == ("Cervical dystonia", 45)
    details = list(
        AuditEntry.objects.filter(object_type="family_member", action="create")
        .order_by("pk")
        .values_list("object_id", "detail")
    )
    # Never the condition, nor whether it is a dystonia: administrators read the trail.
    assert details == [(str(mother.pk - 1), "relative added"), (str(mother.pk), "relative added")]


def test_changing_or_removing_the_only_relative_with_dystonia_clears_the_flag(setting):
    mother = _add(setting)
    colleague = context_of(setting["colleague"])  # any clinician writes the family history

    family.relative_update(
        context=colleague,
        relative_id=mother.pk,
        details=RelativeDetails(relationship="mother", condition="Writer's cramp?"),
    )
    assert not family.hereditary_flag(setting["patient"])
    family.relative_update(context=colleague, relative_id=mother.pk, details=MOTHER)
    assert family.hereditary_flag(setting["patient"])
    family.relative_remove(context=colleague, relative_id=mother.pk)

    assert not family.hereditary_flag(setting["patient"])
    assert not FamilyMember.objects.exists()
    entry = AuditEntry.objects.filter(action="delete").get()
    assert (entry.object_type, entry.object_id) == ("family_member", str(mother.pk))


def test_an_update_names_the_parts_changed_never_the_condition(setting):
    mother = _add(setting)

    family.relative_update(
        context=context_of(setting["clinician"]),
        relative_id=mother.pk,
        details=RelativeDetails(
            relationship="mother", condition="Secret", has_dystonia=True, age_at_onset_years=45
        ),
    )

    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.detail == "relative changed: condition"
    assert "Secret" not in " ".join(AuditEntry.objects.values_list("detail", flat=True))
    assert "dystonia" not in " ".join(
        AuditEntry.objects.filter(action="update").values_list("detail", flat=True)
    )


# The pedigree table


def test_the_pedigree_groups_relatives_by_generation_and_side(setting):
    for relationship in Relationship.values:
        _add(setting, RelativeDetails(relationship=relationship, condition="Tremor"))

    rows = {row.generation: row for row in family.pedigree(setting["patient"])}

    def names(relatives):
        return [relative.relationship for relative in relatives]

    assert list(rows) == list(Generation)
    assert names(rows[Generation.GRANDPARENTS].maternal) == [
        "maternal_grandmother",
        "maternal_grandfather",
    ]
    assert names(rows[Generation.GRANDPARENTS].paternal) == [
        "paternal_grandmother",
        "paternal_grandfather",
    ]
    assert names(rows[Generation.PARENTS].maternal) == ["mother", "maternal_aunt", "maternal_uncle"]
    assert names(rows[Generation.PARENTS].paternal) == ["father", "paternal_aunt", "paternal_uncle"]
    assert names(rows[Generation.OWN].unsided) == ["sister", "brother"]
    assert names(rows[Generation.OWN].maternal) == ["maternal_cousin"]
    assert names(rows[Generation.OWN].paternal) == ["paternal_cousin"]
    assert names(rows[Generation.CHILDREN].unsided) == ["daughter", "son", "niece_or_nephew"]
    assert names(rows[Generation.GRANDCHILDREN].unsided) == ["grandchild"]
    assert names(rows[Generation.OTHER].unsided) == ["other"]


def test_the_pedigree_shows_only_generations_with_someone_in_them(setting):
    _add(setting, UNCLE)

    rows = family.pedigree(setting["patient"])

    assert [row.generation for row in rows] == [Generation.PARENTS]
    assert rows[0].maternal == []
    assert [r.relationship for r in rows[0].paternal] == ["paternal_uncle"]
    assert family.pedigree(factories.patient()) == []


RELATIVES = st.lists(
    st.tuples(st.sampled_from(Relationship.values), st.booleans()), min_size=0, max_size=8
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(relatives=RELATIVES, removed=st.integers(min_value=0, max_value=8))
def test_the_flag_is_true_exactly_when_a_relative_has_dystonia(setting, relatives, removed):
    FamilyMember.objects.all().delete()
    added = [
        _add(setting, RelativeDetails(relationship=r, condition="Condition", has_dystonia=flag))
        for r, flag in relatives
    ]
    for relative in added[:removed]:
        family.relative_remove(context=context_of(setting["clinician"]), relative_id=relative.pk)
    kept = [flag for _r, flag in relatives[removed:]]

    section = _section(setting)

    assert family.hereditary_flag(setting["patient"]) == any(kept)
    assert section.hereditary == any(kept)
    placed = [
        relative.pk
        for row in section.pedigree
        for relative in row.maternal + row.paternal + row.unsided
    ]
    assert sorted(placed) == sorted(relative.pk for relative in added[removed:])


# Bad input


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"relationship": "cousin_twice_removed"}, "relationship", family.BAD_RELATIONSHIP),
        ({"relationship": ""}, "relationship", family.BAD_RELATIONSHIP),
        ({"relationship": None}, "relationship", family.BAD_RELATIONSHIP),
        ({"condition": ""}, "condition", family.CONDITION_REQUIRED),
        ({"condition": "   \n "}, "condition", family.CONDITION_REQUIRED),
        ({"condition": "x" * 201}, "condition", "The condition can be at most 200 characters."),
        ({"condition": "a\x00b"}, "condition", NUL_CHARACTER),
        ({"condition": 12}, "condition", "Enter text."),
        ({"age_at_onset_years": -1}, "age_at_onset_years", family.AGE_OUT_OF_RANGE),
        ({"age_at_onset_years": 131}, "age_at_onset_years", family.AGE_OUT_OF_RANGE),
        ({"age_at_onset_years": 200}, "age_at_onset_years", family.AGE_OUT_OF_RANGE),
        ({"age_at_onset_years": "40"}, "age_at_onset_years", family.BAD_AGE),
        ({"age_at_onset_years": True}, "age_at_onset_years", family.BAD_AGE),
        ({"age_at_onset_years": 4.5}, "age_at_onset_years", family.BAD_AGE),
        ({"has_dystonia": "yes"}, "has_dystonia", family.BAD_FLAG),
        ({"notes": "x" * 301}, "notes", "Notes can be at most 300 characters."),
        ({"notes": "\x00"}, "notes", NUL_CHARACTER),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    setting, changes, field, message
):
    before = _last_audit_pk()

    refused = _refused(setting, RelativeDetails(**{**MOTHER.__dict__, **changes}))

    assert (refused.field, refused.message, refused.status) == (field, message, 400)
    assert not FamilyMember.objects.exists()
    entry = AuditEntry.objects.get(pk__gt=before)
    assert (entry.outcome, entry.patient) == ("refused", setting["patient"])


@pytest.mark.parametrize("age", [0, 130, None])
def test_an_age_at_onset_from_0_to_130_or_unknown_is_kept(setting, age):
    relative = _add(setting, RelativeDetails(**{**MOTHER.__dict__, "age_at_onset_years": age}))

    assert relative.age_at_onset_years == age


def test_a_condition_is_kept_on_one_line_without_surrounding_spaces(setting):
    relative = _add(
        setting, RelativeDetails(relationship="sister", condition="  Blepharo\n spasm ")
    )

    assert relative.condition == "Blepharo spasm"


# Who


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_other_staff_cannot_write_the_family_history(setting, role):
    mother = _add(setting)
    user = setting["staff"][role]
    context = context_of(user)
    before = _last_audit_pk()

    with pytest.raises(AccessRefused) as add:
        _add(setting, UNCLE, user=user)
    with pytest.raises(AccessRefused) as update:
        family.relative_update(context=context, relative_id=mother.pk, details=UNCLE)
    with pytest.raises(AccessRefused) as remove:
        family.relative_remove(context=context, relative_id=mother.pk)

    assert add.value.reveal  # asked about the patient: 403
    assert not update.value.reveal  # asked by the relative's id: 404
    assert not remove.value.reveal
    assert list(FamilyMember.objects.values_list("relationship", flat=True)) == ["mother"]
    refusals = AuditEntry.objects.filter(pk__gt=before)
    assert set(refusals.values_list("outcome", "actor", "patient")) == {
        ("refused", user.pk, setting["patient"].pk)
    }
    assert refusals.count() == 3
    assert family.family_section(context=context, patient=setting["patient"]) is None


def test_a_patient_cannot_read_or_write_their_own_family_history(setting):
    _add(setting)
    context = context_of(setting["patient_user"])

    with pytest.raises(AccessRefused) as refused:
        _add(setting, UNCLE, user=setting["patient_user"])

    assert not refused.value.reveal
    assert family.family_section(context=context, patient=setting["patient"]) is None
    assert FamilyMember.objects.count() == 1


def test_an_unknown_patient_or_relative_is_not_found(setting):
    with pytest.raises(PatientNotFound):
        family.relative_add(
            context=context_of(setting["clinician"]), patient_id=999_999, details=MOTHER
        )
    with pytest.raises(family.RelativeNotFound):
        family.relative_remove(context=context_of(setting["clinician"]), relative_id=999_999)

    assert not FamilyMember.objects.exists()
    assert AuditEntry.objects.filter(outcome="refused").count() == 2


def test_each_write_refreshes_the_classification(setting, monkeypatch):
    calls = []
    monkeypatch.setattr(
        REFRESH,
        lambda patient, **kwargs: calls.append(patient.pk),
    )
    context = context_of(setting["clinician"])

    mother = _add(setting)
    family.relative_update(context=context, relative_id=mother.pk, details=UNCLE)
    family.relative_remove(context=context, relative_id=mother.pk)

    assert calls == [setting["patient"].pk] * 3


def test_a_failed_classification_refresh_writes_nothing(setting, monkeypatch):
    def broken(patient, **kwargs):
        raise RuntimeError("classification failed")

    monkeypatch.setattr(REFRESH, broken)

    with pytest.raises(RuntimeError):
        _add(setting)

    assert not FamilyMember.objects.exists()


# Through the pages


def _post(client, url, details=MOTHER, **changes):
    data = {**details.__dict__, **changes}
    data = {name: "" if value is None else value for name, value in data.items()}
    if not data.get("has_dystonia"):
        data.pop("has_dystonia", None)
    return client.post(url, data)


def test_a_clinician_keeps_the_family_history_through_the_pages(client, setting):
    patient = setting["patient"]
    sign_in(client, setting["clinician"])
    page_url = f"/records/patients/{patient.pk}/"
    add_url = f"/records/patients/{patient.pk}/relatives/new/"

    before = client.get(page_url).content.decode()
    assert "Family history of dystonia: no" in before
    assert "No relatives recorded." in before
    assert client.get(add_url).status_code == 200
    added = _post(client, add_url)
    assert added.status_code == 302
    _post(client, add_url, UNCLE)

    page = client.get(page_url).content.decode()
    assert "Family history of dystonia: yes" in page
    assert "Hereditary flag" in page
    assert "Pedigree" in page
    assert 'Mother: <span class="user-text">Cervical dystonia</span>, onset at 45' in page
    assert "Paternal uncle" in page
    mother = FamilyMember.objects.get(relationship="mother")
    edit_url = f"/records/relatives/{mother.pk}/edit/"
    assert "Cervical dystonia" in client.get(edit_url).content.decode()
    assert _post(client, edit_url, MOTHER, condition="Generalised dystonia").status_code == 302
    assert FamilyMember.objects.get(pk=mother.pk).condition == "Generalised dystonia"
    remove_url = f"/records/relatives/{mother.pk}/remove/"
    assert "Remove the relative" in client.get(remove_url).content.decode()
    assert client.post(remove_url).status_code == 302
    assert "Family history of dystonia: no" in client.get(page_url).content.decode()


def test_bad_input_on_the_page_is_shown_beside_its_field_and_nothing_is_written(client, setting):
    sign_in(client, setting["clinician"])
    url = f"/records/patients/{setting['patient'].pk}/relatives/new/"

    cases = [
        ({"relationship": "neighbour"}, family.BAD_RELATIONSHIP),
        ({"condition": ""}, family.CONDITION_REQUIRED),
        ({"condition": "x" * 201}, "at most 200 characters"),
        ({"condition": "a\x00b"}, NUL_CHARACTER),
        ({"age_at_onset_years": "-1"}, family.AGE_OUT_OF_RANGE),
        ({"age_at_onset_years": "200"}, family.AGE_OUT_OF_RANGE),
        ({"age_at_onset_years": "forty"}, family.BAD_AGE),
        ({"notes": "x" * 301}, "at most 300 characters"),
    ]
    for changes, message in cases:
        response = _post(client, url, MOTHER, **changes)
        assert response.status_code == 400, changes
        assert escape(message) in response.content.decode(), changes
    assert not FamilyMember.objects.exists()


def test_a_condition_with_script_is_shown_as_text(client, setting):
    _add(setting, RelativeDetails(relationship="sister", condition=SCRIPT, notes=SCRIPT))
    sign_in(client, setting["clinician"])

    page = client.get(f"/records/patients/{setting['patient'].pk}/").content.decode()

    assert SCRIPT not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("role", "status"), [(Role.RECEPTION, 403), (Role.ADMIN, 403), (Role.PATIENT, 404)]
)
def test_the_family_history_pages_refuse_everyone_but_clinicians(client, setting, role, status):
    mother = _add(setting)
    user = setting["patient_user"] if role == Role.PATIENT else setting["staff"][role]
    sign_in(client, user, second_factor=role != Role.PATIENT)
    patient = setting["patient"]
    before = _last_audit_pk()

    patient_pages = [
        client.get(f"/records/patients/{patient.pk}/relatives/new/"),
        _post(client, f"/records/patients/{patient.pk}/relatives/new/", UNCLE),
    ]
    relative_pages = [
        client.get(f"/records/relatives/{mother.pk}/edit/"),
        _post(client, f"/records/relatives/{mother.pk}/edit/", UNCLE),
        client.get(f"/records/relatives/{mother.pk}/remove/"),
        client.post(f"/records/relatives/{mother.pk}/remove/"),
    ]

    assert [r.status_code for r in patient_pages] == [status] * 2
    assert [r.status_code for r in relative_pages] == [404] * 4
    assert "Cervical dystonia" not in "".join(
        r.content.decode() for r in patient_pages + relative_pages
    )
    assert list(FamilyMember.objects.values_list("relationship", flat=True)) == ["mother"]
    entries = AuditEntry.objects.filter(pk__gt=before)
    assert set(entries.values_list("outcome", flat=True)) == {"refused"}


def test_reception_do_not_see_the_family_history_on_the_patient_page(client, setting):
    _add(setting)
    sign_in(client, setting["staff"][Role.RECEPTION])
    before = _last_audit_pk()

    page = client.get(f"/records/patients/{setting['patient'].pk}/").content.decode()

    assert "Family history" not in page
    assert "Cervical dystonia" not in page
    assert not AuditEntry.objects.filter(pk__gt=before, object_type="family_member").exists()


def test_the_patient_page_audits_the_family_history_read_as_a_count(client, setting):
    _add(setting)
    _add(setting, UNCLE)
    sign_in(client, setting["clinician"])
    before = _last_audit_pk()

    client.get(f"/records/patients/{setting['patient'].pk}/")

    reads = AuditEntry.objects.filter(pk__gt=before, object_type="family_member")
    assert list(reads.values_list("action", "detail")) == [("read", "2 relatives")]


def test_unknown_ids_are_404(client, setting):
    sign_in(client, setting["clinician"])

    assert client.get("/records/patients/999999/relatives/new/").status_code == 404
    assert client.get("/records/relatives/999999/edit/").status_code == 404
    assert client.post("/records/relatives/999999/remove/").status_code == 404
