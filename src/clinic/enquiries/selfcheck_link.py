"""Carrying self-check answers into a query: a signed token in the link, turned back into a
readable summary that is stored with the query."""

from __future__ import annotations

from django.core import signing

from dystonia.errors import InvalidDocument
from dystonia.selfcheck import QUESTIONS, URGENT_SIGNS, Answer, answers_from_document, self_check

SALT = "clinic.information.selfcheck"
MAX_AGE_SECONDS = 24 * 3600
ANSWER_WORDS = {Answer.YES: "Yes", Answer.NO: "No", Answer.NOT_SURE: "Not sure"}


def selfcheck_token(document: dict[str, object]) -> str:
    """A signed token carrying the answers."""
    return signing.dumps(document, salt=SALT, compress=True)


def selfcheck_summary(token: str) -> str:
    """The answers and the advice given, as text; empty for a missing, altered or old token."""
    if not token or len(token) > 2000:
        return ""
    try:
        document = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
        answers, urgent = answers_from_document(document)
    except (signing.BadSignature, InvalidDocument, TypeError, AttributeError):
        return ""
    result = self_check(answers=answers, urgent=urgent)
    lines = [f"Self-check advice: {result.headline}"]
    lines += [f"- {q.text} {ANSWER_WORDS[answers[q.id]]}" for q in QUESTIONS]
    signs = [sign.text for sign in URGENT_SIGNS if sign.id in urgent]
    if signs:
        lines.append("Urgent signs ticked: " + "; ".join(signs))
    return "\n".join(lines)
