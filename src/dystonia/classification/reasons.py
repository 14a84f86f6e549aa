"""A readable reason for each conclusion, with the source a clinician can check it against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """Why the core concluded something.

    ``about`` names the conclusion (``distribution``, ``form:blepharospasm``, ...).
    """

    about: str
    text: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"about": self.about, "text": self.text, "source": self.source}
