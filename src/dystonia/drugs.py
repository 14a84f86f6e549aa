"""Whether a medicine named in a drug history is a dopamine-receptor blocker, a possible cause
of the dystonia ("Drug exposure (antipsychotics, metoclopramide)", clinical.md 3.4 [UTSW]).

Only a suggestion: the clinician ticks or unticks the flag. A name is recognised when one of
its words is a generic name below, so "Haloperidol decanoate 50 mg" is found; brand names are
not listed, and a name that is not recognised is simply not flagged.

>>> is_dopamine_receptor_blocker("Haloperidol decanoate depot")
True
>>> is_dopamine_receptor_blocker("Lithium carbonate")
False
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from dystonia.errors import InvalidInput

# The most a name is read for: DrugExposure.drug is 100 characters; this leaves room.
NAME_MAX_LENGTH: Final = 1_000

# WHO ATC/DDD index, group N05A Antipsychotics (WHOCC, whocc.no/atc_ddd_index/?code=N05A),
# by subgroup; N05AN lithium is left out (not a dopamine-receptor blocker), and so is N05AK.
ANTIPSYCHOTICS: Final = frozenset(
    {
        # N05AA phenothiazines with aliphatic side-chain
        "chlorpromazine",
        "levomepromazine",
        "methotrimeprazine",  # the older name of levomepromazine (N05AA02)
        "promazine",
        "acepromazine",
        "triflupromazine",
        # N05AB phenothiazines with piperazine structure
        "fluphenazine",
        "perphenazine",
        "prochlorperazine",
        "trifluoperazine",
        # N05AC phenothiazines with piperidine structure
        "periciazine",
        "pericyazine",  # the British spelling of periciazine (N05AC01)
        "thioridazine",
        "pipotiazine",
        # N05AD butyrophenone derivatives
        "haloperidol",
        "droperidol",
        "benperidol",
        # N05AE indole derivatives
        "sertindole",
        # N05AF thioxanthene derivatives
        "flupentixol",
        "flupenthixol",  # the British spelling of flupentixol (N05AF01)
        "tiotixene",
        "thiothixene",  # the American spelling of tiotixene (N05AF04)
        "zuclopenthixol",
        # N05AG diphenylbutylpiperidine derivatives
        "pimozide",
        # N05AH diazepines, oxazepines and thiazepines
        "loxapine",
        "clozapine",
        "olanzapine",
        "quetiapine",
        "asenapine",
        "clotiapine",
        # N05AL benzamides
        "sulpiride",
        "tiapride",
        "amisulpride",
        # N05AX other antipsychotics
        "prothipendyl",
        "risperidone",
        "mosapramine",
        "zotepine",
        "aripiprazole",
        "paliperidone",
        "iloperidone",
        "brexpiprazole",
        "cariprazine",
        "blonanserin",
        "clocapramine",
    }
)
# WHO ATC A03FA01, a propulsive that blocks dopamine receptors (clinical.md 3.4 [UTSW]).
OTHER_BLOCKERS: Final = frozenset({"metoclopramide"})
DOPAMINE_RECEPTOR_BLOCKERS: Final = ANTIPSYCHOTICS | OTHER_BLOCKERS

_WORD = re.compile(r"[a-z]+")


def _words(name: str) -> list[str]:
    """Lower-case ASCII words of a name, accents dropped ("Halopéridol" reads "haloperidol")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(plain.lower())


def is_dopamine_receptor_blocker(name: str) -> bool:
    """True when a word of the medicine's ``name`` is the generic name of a dopamine-receptor
    blocker: an antipsychotic of WHO ATC group N05A (lithium excepted) or metoclopramide.

    Raises InvalidInput when ``name`` is not a string or is longer than NAME_MAX_LENGTH.
    """
    if not isinstance(name, str):
        raise InvalidInput(field="drug", value=type(name).__name__, allowed="a medicine's name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            field="drug",
            value=f"{len(name)} characters",
            allowed=f"a name of at most {NAME_MAX_LENGTH} characters",
        )
    return any(word in DOPAMINE_RECEPTOR_BLOCKERS for word in _words(name))
