"""`python -m dystonia classify`: good documents, bad documents, and the JSON Schemas."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from dystonia.cli import MAX_DOCUMENT_BYTES, main

FINDINGS_SCHEMA = json.loads(
    resources.files("dystonia").joinpath("schemas/findings.schema.json").read_text()
)
RESULT_SCHEMA = json.loads(
    resources.files("dystonia").joinpath("schemas/classification.schema.json").read_text()
)
GOOD = {
    "age_at_onset_years": 45,
    "regions": [{"region": "neck"}, {"region": "upper_limb", "side": "right"}],
    "course": "static",
    "variability": ["persistent"],
    "associated_features": ["tremor"],
    "family_history": False,
    "drug_exposure": False,
    "etiology": {"nervous_system_pathology": "none"},
}


def _run(document, monkeypatch, capsys):
    text = document if isinstance(document, str) else json.dumps(document)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code = main(["classify", "-"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_schemas_are_valid_json_schemas():
    jsonschema.Draft202012Validator.check_schema(FINDINGS_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(RESULT_SCHEMA)


def test_a_good_document_prints_a_result_that_matches_its_schema(monkeypatch, capsys):
    jsonschema.validate(GOOD, FINDINGS_SCHEMA)

    code, out, err = _run(GOOD, monkeypatch, capsys)

    assert code == 0
    assert err == ""
    result = json.loads(out)
    jsonschema.validate(result, RESULT_SCHEMA)
    assert result["distribution"] == "segmental"
    assert result["leg_involvement"] is None
    assert result["age_at_onset_band"] == "late_adulthood"
    assert result["isolated"] is True
    # Region forms name focal and cranio-cervical dystonia; neck with arm is segmental.
    assert result["forms"] == []
    assert result["classification_version"] == "2013"
    assert "segmental: neck and right upper limb are contiguous" in [
        r["text"] for r in result["reasons"]
    ]


@pytest.mark.parametrize(
    "document",
    [
        {
            "age_at_onset_years": 8,
            "regions": [
                {"region": "trunk"},
                {"region": "lower_limb", "side": "left"},
                {"region": "upper_limb", "side": "left"},
            ],
        },
        {
            "age_at_onset_years": 60,
            "regions": [{"region": "upper_face"}, {"region": "jaw_tongue"}],
            "drug_exposure": True,
        },
        {
            "age_at_onset_years": 12,
            "regions": [{"region": "neck"}],
            "associated_features": ["myoclonus", "kayser_fleischer_rings"],
            "family_history": True,
        },
        {
            "age_at_onset_years": 30,
            "regions": [{"region": "upper_limb", "side": "left"}],
            "etiology": {"acquired_cause": "psychogenic"},
        },
    ],
)
def test_varied_documents_all_match_the_result_schema(monkeypatch, capsys, document):
    jsonschema.validate(document, FINDINGS_SCHEMA)

    code, out, _ = _run(document, monkeypatch, capsys)

    assert code == 0
    jsonschema.validate(json.loads(out), RESULT_SCHEMA)


def test_an_integral_float_age_is_read_as_the_schema_reads_it(monkeypatch, capsys):
    document = {"age_at_onset_years": 12.0, "regions": [{"region": "neck"}]}
    jsonschema.validate(document, FINDINGS_SCHEMA)

    code, out, _ = _run(document, monkeypatch, capsys)

    assert code == 0
    assert json.loads(out)["age_at_onset_band"] == "childhood"


def test_a_generalized_case_reports_leg_involvement(monkeypatch, capsys):
    document = {
        "age_at_onset_years": 8,
        "regions": [
            {"region": "trunk"},
            {"region": "neck"},
            {"region": "lower_limb", "side": "left"},
        ],
    }

    _, out, _ = _run(document, monkeypatch, capsys)

    assert json.loads(out)["leg_involvement"] is True


BAD = [
    ({"age_at_onset_years": 40, "regions": [{"region": "elbow"}]}, "regions[0].region"),
    (
        {"age_at_onset_years": 40, "regions": [{"region": "neck", "side": "left"}]},
        "regions[0].side",
    ),
    ({"age_at_onset_years": 40, "regions": [{"region": "upper_limb"}]}, "regions[0].side"),
    ({"age_at_onset_years": -1, "regions": [{"region": "neck"}]}, "age_at_onset_years"),
    ({"age_at_onset_years": 4.5, "regions": [{"region": "neck"}]}, "age_at_onset_years"),
    ({"age_at_onset_years": "40", "regions": [{"region": "neck"}]}, "age_at_onset_years"),
    ({"age_at_onset_years": True, "regions": [{"region": "neck"}]}, "age_at_onset_years"),
    ({"age_at_onset_years": 131, "regions": [{"region": "neck"}]}, "age_at_onset_years"),
    ({"regions": [{"region": "neck"}]}, "age_at_onset_years"),
    ({"age_at_onset_years": 40, "regions": []}, "regions"),
    ({"age_at_onset_years": 40}, "regions"),
    ({"age_at_onset_years": 40, "regions": [{"region": "neck"}], "diagnosis": "x"}, "diagnosis"),
    ({"age_at_onset_years": 40, "regions": [{"region": "neck"}], "course": "wobbly"}, "course"),
    (
        {"age_at_onset_years": 40, "regions": [{"region": "neck"}], "variability": "diurnal"},
        "variability",
    ),
    (
        {"age_at_onset_years": 40, "regions": [{"region": "neck"}], "variability": ["weekly"]},
        "variability[0]",
    ),
    (
        {
            "age_at_onset_years": 40,
            "regions": [{"region": "neck"}],
            "associated_features": ["<script>"],
        },
        "associated_features[0]",
    ),
    (
        {"age_at_onset_years": 40, "regions": [{"region": "neck"}], "family_history": "yes"},
        "family_history",
    ),
    (
        {"age_at_onset_years": 40, "regions": [{"region": "neck"}], "etiology": {"cause": "x"}},
        "etiology.cause",
    ),
    (
        {"age_at_onset_years": 40, "regions": [{"region": "neck"}], "etiology": {"gene": "x" * 41}},
        "etiology.gene",
    ),
    ({"age_at_onset_years": 40, "regions": ["neck"]}, "regions[0]"),
]


@pytest.mark.parametrize(("document", "field"), BAD)
def test_bad_documents_exit_2_naming_the_field_and_the_schema_agrees(
    monkeypatch, capsys, document, field
):
    code, out, err = _run(document, monkeypatch, capsys)

    assert code == 2
    assert out == ""
    assert any(line.startswith(f"{field}: ") for line in err.splitlines())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, FINDINGS_SCHEMA)


def test_every_problem_gets_its_own_line(monkeypatch, capsys):
    document = {"age_at_onset_years": -3, "regions": [{"region": "elbow"}], "extra": 1}

    code, _, err = _run(document, monkeypatch, capsys)

    assert code == 2
    assert [line.split(":")[0] for line in err.strip().splitlines()] == [
        "extra",
        "age_at_onset_years",
        "regions[0].region",
    ]


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "null", '"neck"'])
def test_not_a_findings_object(monkeypatch, capsys, text):
    code, out, err = _run(text, monkeypatch, capsys)

    assert code == 2
    assert out == ""
    assert err.startswith(("file:", "(document):"))


def test_too_large_a_document_is_refused(monkeypatch, capsys):
    code, _, err = _run(" " * (MAX_DOCUMENT_BYTES + 10), monkeypatch, capsys)

    assert code == 2
    assert "larger than" in err


def test_a_missing_file(capsys, tmp_path):
    assert main(["classify", str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.startswith("file: cannot read")


def test_reads_a_file_from_the_command_line(tmp_path):
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(GOOD))

    result = subprocess.run(
        [sys.executable, "-m", "dystonia", "classify", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0
    assert json.loads(result.stdout)["distribution"] == "segmental"
