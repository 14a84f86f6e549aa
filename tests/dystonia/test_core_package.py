"""The core's package, its error type and its command-line entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dystonia.cli import main
from dystonia.errors import InvalidInput


def test_invalid_input_names_field_value_and_what_is_allowed():
    error = InvalidInput(field="age_at_onset_years", value=-1, allowed="a whole number >= 0")

    assert isinstance(error, ValueError)
    assert str(error) == "age_at_onset_years: -1 is not allowed; expected a whole number >= 0"
    assert error.as_dict() == {
        "field": "age_at_onset_years",
        "value": "-1",
        "allowed": "a whole number >= 0",
    }


def test_help_from_the_repository_root():
    result = subprocess.run(
        [sys.executable, "-m", "dystonia", "--help"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0
    assert "usage: python -m dystonia" in result.stdout
    assert "JSON" in result.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage:" in capsys.readouterr().out


def test_version_is_a_json_document(capsys):
    assert main(["version"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "dystonia"


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])

    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
