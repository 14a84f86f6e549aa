"""The one error the core raises for bad input, naming the field, the value and what is allowed."""

from __future__ import annotations

from typing import Any


class InvalidInput(ValueError):  # noqa: N818 - the name the design and every caller use
    """A value given to the core is not allowed.

    >>> err = InvalidInput(field="age_at_onset_years", value=-1, allowed="a whole number >= 0")
    >>> str(err)
    "age_at_onset_years: -1 is not allowed; expected a whole number >= 0"
    """

    def __init__(self, *, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {value!r} is not allowed; expected {allowed}")

    def as_dict(self) -> dict[str, str]:
        """The error as a JSON-ready mapping (used by the CLI and the API)."""
        return {"field": self.field, "value": repr(self.value), "allowed": self.allowed}


class InvalidDocument(ValueError):  # noqa: N818 - pairs with InvalidInput
    """A document (such as a findings JSON) has one or more invalid values, all listed."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))
