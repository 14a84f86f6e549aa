"""The symptom self-check: advice, never a diagnosis; urgent signs always first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia.errors import InvalidDocument
from dystonia.selfcheck import (
    QUESTIONS,
    URGENT_SIGNS,
    Answer,
    Level,
    QuestionKind,
    answers_from_document,
    self_check,
)

ALL_NO = {q.id: Answer.NO for q in QUESTIONS}
SYMPTOM_IDS = [q.id for q in QUESTIONS if q.kind is QuestionKind.SYMPTOM]


def test_the_questions_are_the_symptoms_the_unit_lists():
    assert [q.id for q in QUESTIONS] == [
        "spasms",
        "blinking",
        "neck_turning",
        "tremor",
        "fixed_posture",
        "task_specific",
        "speech_swallowing",
        "spreading",
        "worse_with_stress",
        "family_history",
    ]


def test_the_urgent_signs_are_the_six_the_unit_shows():
    assert [s.id for s in URGENT_SIGNS] == [
        "breathing",
        "swallowing",
        "continuous_spasms",
        "after_toxin",
        "dbs_loss",
        "new_medicine",
    ]
    assert all("999" in sign.advice for sign in URGENT_SIGNS)


@pytest.mark.parametrize("symptom", SYMPTOM_IDS)
def test_any_symptom_points_to_a_specialist_new_consultation(symptom):
    result = self_check(answers=ALL_NO | {symptom: Answer.YES})

    assert result.level is Level.SPECIALIST
    assert result.service == "new-consultation"
    assert "GP" in " ".join(result.advice)


def test_swallowing_problems_add_speech_therapy_and_seeing_the_gp_soon():
    advice = " ".join(self_check(answers=ALL_NO | {"speech_swallowing": Answer.YES}).advice)

    assert "speech and language therapist" in advice
    assert "soon" in advice


@pytest.mark.parametrize("modifier", ["worse_with_stress", "family_history"])
def test_a_modifier_alone_suggests_the_gp_if_worried(modifier):
    assert self_check(answers=ALL_NO | {modifier: Answer.YES}).level is Level.GP


def test_not_sure_suggests_the_gp():
    assert self_check(answers=ALL_NO | {"tremor": Answer.NOT_SURE}).level is Level.GP


def test_all_no_finds_no_signs():
    result = self_check(answers=ALL_NO)

    assert result.level is Level.NO_SIGNS
    assert result.service is None


def test_an_urgent_sign_comes_first_whatever_else():
    result = self_check(
        answers=ALL_NO | {"neck_turning": Answer.YES}, urgent=frozenset({"after_toxin"})
    )

    assert result.level is Level.URGENT
    assert "Contact the clinic that treated you" in result.advice[0]


answers = st.fixed_dictionaries({q.id: st.sampled_from(list(Answer)) for q in QUESTIONS})
urgent = st.frozensets(st.sampled_from([s.id for s in URGENT_SIGNS]))


@given(answers=answers, urgent=urgent)
def test_advice_is_never_a_diagnosis(answers, urgent):
    result = self_check(answers=answers, urgent=urgent)
    text = " ".join((result.headline, *result.advice)).lower()

    assert "you have dystonia" not in text
    assert "diagnos" not in text  # the page adds the not-a-diagnosis line itself


@given(answers=answers, urgent=urgent)
def test_urgent_signs_always_win_and_symptoms_always_reach_a_specialist(answers, urgent):
    result = self_check(answers=answers, urgent=urgent)

    if urgent:
        assert result.level is Level.URGENT
    elif any(answers[s] is Answer.YES for s in SYMPTOM_IDS):
        assert result.level is Level.SPECIALIST
    else:
        assert result.level in {Level.GP, Level.NO_SIGNS}


def test_answers_are_validated_naming_each_problem():
    with pytest.raises(InvalidDocument) as error:
        answers_from_document({"spasms": "maybe", "extra": "yes", "urgent": ["fire"]})

    fields = [problem.field for problem in error.value.problems]
    assert fields[0] == "extra"
    assert "spasms" in fields
    assert "blinking" in fields  # missing
    assert "urgent" in fields


def test_valid_answers_round_trip():
    document = {q.id: "no" for q in QUESTIONS} | {"tremor": "yes", "urgent": ["breathing"]}

    parsed, signs = answers_from_document(document)

    assert parsed["tremor"] is Answer.YES
    assert signs == frozenset({"breathing"})
