"""Settings come from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.settings.environment import env_bool, env_int, env_list, env_required


def _start_production(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    clean |= {"DJANGO_SETTINGS_MODULE": "clinic.settings.production", **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        capture_output=True,
        text=True,
        env=clean,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _start_production(ALLOWED_HOSTS="clinic.example.org")

    assert result.returncode != 0
    assert "Set the environment variable SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _start_production(SECRET_KEY="x" * 50)

    assert result.returncode != 0
    assert "Set the environment variable ALLOWED_HOSTS" in result.stderr


def test_production_starts_with_both():
    result = _start_production(SECRET_KEY="x" * 50, ALLOWED_HOSTS="clinic.example.org")

    assert result.returncode == 0, result.stderr


def test_env_bool_accepts_the_usual_words(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", default=False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", default=True) is False


def test_env_bool_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG", default=False)


def test_env_int_rejects_words(monkeypatch):
    monkeypatch.setenv("PORT_NUMBER", "eighty")

    with pytest.raises(ImproperlyConfigured, match="PORT_NUMBER must be a whole number"):
        env_int("PORT_NUMBER", default=1)


def test_env_list_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example.org, ,b.example.org,")

    assert env_list("HOSTS") == ["a.example.org", "b.example.org"]


def test_env_required_says_what_to_set(monkeypatch):
    monkeypatch.delenv("NEEDED", raising=False)

    with pytest.raises(ImproperlyConfigured, match="Set the environment variable NEEDED: why"):
        env_required("NEEDED", why="why")
