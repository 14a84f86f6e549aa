"""Dopamine-receptor blockers in a drug history (clinical.md 3.4; WHO ATC N05A and A03FA01)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia.drugs import (
    ANTIPSYCHOTICS,
    DOPAMINE_RECEPTOR_BLOCKERS,
    NAME_MAX_LENGTH,
    is_dopamine_receptor_blocker,
)
from dystonia.errors import InvalidInput


@pytest.mark.parametrize(
    "name",
    [
        "Haloperidol",
        "haloperidol decanoate 50 mg depot",
        "RISPERIDONE",
        "Metoclopramide 10 mg tds",
        "Prochlorperazine (Stemetil)",
        "Halopéridol",
        "olanzapine/fluoxetine",
        "Flupenthixol",
        "Flupentixol",
        "Aripiprazole",
        "Amisulpride",
    ],
)
def test_antipsychotics_and_metoclopramide_are_flagged(name):
    assert is_dopamine_receptor_blocker(name)


@pytest.mark.parametrize(
    "name",
    [
        "Lithium carbonate",  # N05AN01: an antipsychotic in ATC, not a dopamine-receptor blocker
        "Levodopa",
        "Trihexyphenidyl",
        "Botulinum toxin type A",
        "Domperidone",  # A03FA03: not in the reference's list
        "",
        "   ",
        "<script>alert(1)</script>",
        "halo peridol",  # a word must be the whole name, not a piece of it
    ],
)
def test_other_medicines_are_not_flagged(name):
    assert not is_dopamine_receptor_blocker(name)


def test_lithium_is_not_listed():
    assert "lithium" not in DOPAMINE_RECEPTOR_BLOCKERS
    assert "metoclopramide" in DOPAMINE_RECEPTOR_BLOCKERS
    assert "metoclopramide" not in ANTIPSYCHOTICS


def test_every_listed_name_is_a_lower_case_ascii_word():
    for name in DOPAMINE_RECEPTOR_BLOCKERS:
        assert name.isascii()
        assert name.isalpha()
        assert name == name.lower()


@pytest.mark.parametrize("value", [None, 12, b"haloperidol", ["haloperidol"]])
def test_a_name_that_is_not_text_is_invalid_input(value):
    with pytest.raises(InvalidInput) as error:
        is_dopamine_receptor_blocker(value)

    assert error.value.field == "drug"


def test_a_very_long_name_is_invalid_input():
    with pytest.raises(InvalidInput):
        is_dopamine_receptor_blocker("haloperidol " * NAME_MAX_LENGTH)


@given(
    prefix=st.text(max_size=30),
    name=st.sampled_from(sorted(DOPAMINE_RECEPTOR_BLOCKERS)),
    suffix=st.text(max_size=30),
)
def test_a_listed_name_is_found_wherever_it_stands_as_a_word(prefix, name, suffix):
    assert is_dopamine_receptor_blocker(f"{prefix} {name.capitalize()} {suffix}")


@given(st.text(alphabet=st.characters(categories=["Nd", "P", "Zs"]), max_size=50))
def test_digits_punctuation_and_spaces_alone_are_never_flagged(text):
    assert not is_dopamine_receptor_blocker(text)
