"""The public symptom self-check: plain-language advice on where to go next, never a diagnosis.

The questions are the symptoms the unit lists; the urgent signs are the ones the unit shows
on every form. How answers turn into advice is a project decision (docs/clinical-rules.md,
"Symptom self-check"): any urgent sign comes first; any symptom answered yes points to a
dystonia specialist (through the GP or a new consultation); otherwise the GP if worried.

>>> result = self_check(answers={q.id: Answer.NO for q in QUESTIONS} | {"neck_turning": Answer.YES})
>>> result.level.value, result.service
('specialist', 'new-consultation')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from dystonia.errors import InvalidDocument, InvalidInput


class Answer(StrEnum):
    """How a visitor answers a question."""

    YES = "yes"
    NO = "no"
    NOT_SURE = "not_sure"


class QuestionKind(StrEnum):
    """A symptom that can point to dystonia, or a modifier that does not by itself."""

    SYMPTOM = "symptom"
    MODIFIER = "modifier"


@dataclass(frozen=True)
class Question:
    """One question, in plain words."""

    id: str
    text: str
    kind: QuestionKind


QUESTIONS: tuple[Question, ...] = (
    Question(
        "spasms",
        "Do you have muscle spasms or cramps that you cannot control?",
        QuestionKind.SYMPTOM,
    ),
    Question(
        "blinking",
        "Do your eyes blink or close by themselves, more than you can control?",
        QuestionKind.SYMPTOM,
    ),
    Question(
        "neck_turning",
        "Does your neck twist, turn or tilt to one side by itself?",
        QuestionKind.SYMPTOM,
    ),
    Question(
        "tremor",
        "Do you have a shake (tremor), for example of the head or hands?",
        QuestionKind.SYMPTOM,
    ),
    Question(
        "fixed_posture",
        "Does part of your body get stuck in an unusual position?",
        QuestionKind.SYMPTOM,
    ),
    Question(
        "task_specific",
        "Do spasms happen only during one task, such as writing or playing an instrument?",
        QuestionKind.SYMPTOM,
    ),
    Question(
        "speech_swallowing",
        "Do you have problems with speaking, chewing or swallowing?",
        QuestionKind.SYMPTOM,
    ),
    Question(
        "spreading", "Have the symptoms spread to other parts of your body?", QuestionKind.SYMPTOM
    ),
    Question(
        "worse_with_stress",
        "Do the symptoms get worse when you are stressed or tired?",
        QuestionKind.MODIFIER,
    ),
    Question("family_history", "Does anyone in your family have dystonia?", QuestionKind.MODIFIER),
)


@dataclass(frozen=True)
class UrgentSign:
    """A sign that needs help now, with what to do."""

    id: str
    text: str
    advice: str


CALL_999 = "Call 999 or go to the nearest emergency department (A&E) now."
_THEN_999 = "call 999 or go to the nearest emergency department (A&E) now."
URGENT_SIGNS: tuple[UrgentSign, ...] = (
    UrgentSign(
        "breathing", "Difficulty breathing, or noisy, high-pitched breathing (stridor)", CALL_999
    ),
    UrgentSign("swallowing", "Trouble swallowing", CALL_999),
    UrgentSign(
        "continuous_spasms",
        "Severe spasms that do not stop (this can be status dystonicus, an emergency)",
        CALL_999,
    ),
    UrgentSign(
        "after_toxin",
        "New weakness or trouble swallowing after a botulinum toxin injection",
        "Contact the clinic that treated you today; if breathing or swallowing is affected, "
        + _THEN_999,
    ),
    UrgentSign(
        "dbs_loss",
        "Sudden loss of benefit from deep brain stimulation",
        "Contact your deep brain stimulation team today; if spasms are severe or breathing is "
        "affected, " + _THEN_999,
    ),
    UrgentSign(
        "new_medicine",
        "Spasms that started suddenly after starting a new medicine",
        "Contact your GP, pharmacist or NHS 111 now; if breathing or swallowing is affected, "
        + _THEN_999,
    ),
)


class Level(StrEnum):
    """How soon and where to go."""

    URGENT = "urgent"
    SPECIALIST = "specialist"
    GP = "gp"
    NO_SIGNS = "no_signs"


@dataclass(frozen=True)
class Recommendation:
    """Plain-language advice, the service to book (a directory slug, or None), and which
    answers led to it."""

    level: Level
    headline: str
    advice: tuple[str, ...]
    service: str | None
    because: tuple[str, ...]


NOT_A_DIAGNOSIS = (
    "This is not a diagnosis. Only a doctor who examines you can tell what is causing your "
    "symptoms."
)
_BY_ID = {question.id: question for question in QUESTIONS}
_URGENT_BY_ID = {sign.id: sign for sign in URGENT_SIGNS}


def answers_from_document(
    document: Mapping[str, object],
) -> tuple[dict[str, Answer], frozenset[str]]:
    """Validate answers ({question id: yes/no/not_sure}, plus "urgent": [sign ids]); every
    question must be answered. Raises InvalidDocument listing each problem."""
    problems: list[InvalidInput] = []
    answers: dict[str, Answer] = {}
    allowed = ", ".join(answer.value for answer in Answer)
    for key in sorted(set(document) - set(_BY_ID) - {"urgent"}):
        problems.append(InvalidInput(field=str(key), value="(present)", allowed="a question id"))
    for question in QUESTIONS:
        value = document.get(question.id)
        if isinstance(value, str) and value in {answer.value for answer in Answer}:
            answers[question.id] = Answer(value)
        else:
            problems.append(InvalidInput(field=question.id, value=value, allowed=allowed))
    urgent_value = document.get("urgent", [])
    urgent: set[str] = set()
    if not isinstance(urgent_value, list | tuple | frozenset | set):
        problems.append(
            InvalidInput(field="urgent", value=urgent_value, allowed="a list of sign ids")
        )
    else:
        for item in urgent_value:
            if item in _URGENT_BY_ID:
                urgent.add(str(item))
            else:
                problems.append(
                    InvalidInput(field="urgent", value=item, allowed="an urgent sign id")
                )
    if problems:
        raise InvalidDocument(problems)
    return answers, frozenset(urgent)


def self_check(
    *, answers: Mapping[str, Answer], urgent: frozenset[str] = frozenset()
) -> Recommendation:
    """Advice for a complete set of answers (see answers_from_document)."""
    if urgent:
        signs = [_URGENT_BY_ID[sign] for sign in sorted(urgent)]
        urgent_advice = tuple(dict.fromkeys(sign.advice for sign in signs))
        return Recommendation(
            Level.URGENT, "Get help now", urgent_advice, None, tuple(sign.text for sign in signs)
        )
    yes = [q for q in QUESTIONS if answers.get(q.id) is Answer.YES]
    symptoms = [q for q in yes if q.kind is QuestionKind.SYMPTOM]
    unsure = [q for q in QUESTIONS if answers.get(q.id) is Answer.NOT_SURE]
    if symptoms:
        advice = [
            "These can be signs of dystonia, or of other conditions. A dystonia specialist can "
            "examine you and find out what is causing them.",
            "You can see your GP, who can refer you, or book a new consultation with us.",
        ]
        if answers.get("speech_swallowing") is Answer.YES:
            advice.append(
                "Problems with swallowing should be checked soon: see your GP. A speech and "
                "language therapist can help with speech, chewing and swallowing."
            )
        if answers.get("spreading") is Answer.YES:
            advice.append("Symptoms that are spreading should be looked at soon.")
        return Recommendation(
            Level.SPECIALIST,
            "See a dystonia specialist",
            tuple(advice),
            "new-consultation",
            tuple(q.text for q in symptoms),
        )
    if yes or unsure:
        advice_gp = (
            "Your answers do not clearly point to dystonia. If you are worried, or unsure about "
            "any of your symptoms, talk to your GP.",
        )
        return Recommendation(
            Level.GP,
            "Talk to your GP if you are worried",
            advice_gp,
            None,
            tuple(q.text for q in yes + unsure),
        )
    advice_none = (
        "Your answers do not suggest the symptoms of dystonia. If something still worries you, "
        "talk to your GP.",
    )
    return Recommendation(
        Level.NO_SIGNS, "No signs of dystonia in your answers", advice_none, None, ()
    )
