"""The custom user model and who may enter the admin."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from clinic.accounts.models import Role, User
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_users_sign_in_by_email_with_a_role():
    user = factories.user(email="Someone@Example.org", role=Role.CLINICIAN)

    assert user.email == "someone@example.org"
    assert user.role == Role.CLINICIAN
    assert user.check_password("a-made-up-password")
    assert not user.is_staff


def test_new_users_are_patients_by_default():
    user = User.objects.create_user("new@example.org", "a-made-up-password", full_name="New")

    assert user.role == Role.PATIENT


def test_email_is_required():
    with pytest.raises(ValueError, match="email address is required"):
        User.objects.create_user("", "a-made-up-password", full_name="Nobody")


def test_email_is_unique():
    factories.user(email="twin@example.org")

    with pytest.raises(ValidationError, match="already exists"):
        factories.user(email="twin@example.org")


def test_the_database_refuses_an_unknown_role():
    user = factories.user()

    with pytest.raises(IntegrityError):
        User.objects.filter(pk=user.pk).update(role="superhero")


def test_the_database_refuses_a_superuser_who_is_not_an_admin():
    user = factories.user(role=Role.RECEPTION)

    with pytest.raises(IntegrityError):
        User.objects.filter(pk=user.pk).update(is_superuser=True)


@pytest.mark.parametrize("role", [Role.PATIENT, Role.RECEPTION, Role.CLINICIAN])
def test_only_the_admin_role_enters_the_admin(client, role):
    sign_in(client, factories.user(role=role))

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_an_admin_without_the_second_factor_is_sent_to_it(client):
    sign_in(client, factories.user(role=Role.ADMIN), second_factor=False)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/two-factor/")


def test_admin_manages_sites_practitioners_services_stories_and_news(client, demo_data):
    sign_in(client, factories.user(role=Role.ADMIN))

    for path in [
        "/admin/",
        "/admin/directory/site/",
        "/admin/directory/practitioner/",
        "/admin/directory/service/",
        "/admin/directory/specialty/",
        "/admin/information/story/",
        "/admin/information/newsitem/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
    ]:
        assert client.get(path).status_code == 200, path


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/admin/directory/site/", follow=True)

    assert (
        response.redirect_chain[-1][0] == "/accounts/sign-in/?next=%2Fadmin%2Fdirectory%2Fsite%2F"
    )
    assert "Sign in" in response.content.decode()
