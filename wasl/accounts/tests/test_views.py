"""Sign-in, preferences and organisation pages through the Django test client."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from wasl.accounts.models import Organisation, User
from wasl.accounts.selectors import organisation_get
from wasl.accounts.services import organisation_update
from wasl.core.errors import Forbidden, Invalid
from wasl.core.models import AuditEntry
from wasl.core.testing import make_user

PASSWORD = "Kh0sh-amadid-2026"

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep() -> User:
    return make_user("sara", "rep", "Tehran", password=PASSWORD)


@pytest.fixture
def admin() -> User:
    return make_user("boss", "admin", password=PASSWORD)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "name", ["web:home", "web:search", "accounts:preferences", "accounts:organisation"]
)
def test_pages_redirect_to_sign_in_when_signed_out(name):
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_htmx_requests_when_signed_out_are_told_to_reload_the_sign_in_page():
    response = Client().get(reverse("web:search"), {"q": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("accounts:login"))


def test_the_api_and_health_check_do_not_redirect_to_sign_in():
    client = Client()
    assert client.get("/health").status_code == 200
    assert client.get("/api/v1/contacts").status_code == 401


def test_signing_in_with_a_wrong_password_shows_a_clear_error(rep):
    response = Client().post(reverse("accounts:login"), {"username": "sara", "password": "nope"})
    assert response.status_code == 200
    assert b'id="login-error"' in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


def test_signing_in_lands_on_the_home_page(rep):
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": "sara", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert client.get(reverse("web:home")).status_code == 200


@override_settings(WASL_LOGIN_RATE=(3, 60))
def test_sign_in_is_throttled_per_address_and_name(rep):
    client = Client()
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": "sara", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "sara", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many attempts" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(WASL_LOGIN_RATE=(3, 60))
def test_sign_in_is_throttled_per_address_across_names(rep):
    client = Client()
    for attempt in range(9):
        client.post(reverse("accounts:login"), {"username": f"guess{attempt}", "password": "x"})
    response = client.post(reverse("accounts:login"), {"username": "sara", "password": PASSWORD})
    assert response.status_code == 429


def test_posts_without_a_csrf_token_are_refused(rep):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "sara", "password": PASSWORD})
    assert response.status_code == 403
    client.force_login(rep)
    response = client.post(reverse("accounts:preferences"), {"language": "fa"})
    assert response.status_code == 403
    rep.refresh_from_db()
    assert rep.language == ""


def test_pages_carry_the_csrf_token_for_htmx(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    html = client.get(reverse("web:home")).content.decode()
    token = client.cookies["csrftoken"].value
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    response = client.post(
        reverse("accounts:preferences"),
        {"language": "fa", "calendar": "jalali", "time_zone": "", "digits": "native"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 302


def test_preferences_are_saved_and_applied(rep):
    client = signed_in(rep)
    response = client.post(
        reverse("accounts:preferences"),
        {"language": "fa", "calendar": "jalali", "time_zone": "Asia/Tehran", "digits": "native"},
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.language, rep.calendar, rep.time_zone, rep.digits) == (
        "fa",
        "jalali",
        "Asia/Tehran",
        "native",
    )
    html = client.get(reverse("web:home")).content.decode()
    assert '<html lang="fa" dir="rtl"' in html
    assert "bootstrap.rtl.min.css" in html
    assert "Vazirmatn" in html


def test_preferences_refuse_an_unknown_time_zone(rep):
    response = signed_in(rep).post(
        reverse("accounts:preferences"), {"time_zone": "Mars/Olympus", "language": "en"}
    )
    assert response.status_code == 400
    rep.refresh_from_db()
    assert rep.time_zone == ""


@pytest.mark.parametrize(
    ("language", "tehran", "gulf"),
    [("fa", "تهران، ایران", "کشورهای حوزه خلیج فارس"), ("ar", "طهران، إيران", "دول الخليج")],
)
def test_time_zones_are_named_in_the_users_language_and_every_zone_stays(
    rep, language, tehran, gulf
):
    organisation_update(actor=None, language=language)
    client = signed_in(rep)
    for url in (reverse("accounts:preferences"),):
        html = client.get(url).content.decode()
        assert f'<option value="Asia/Tehran">{tehran}</option>' in html
        assert f'<optgroup label="{gulf}">' in html
        assert ">Asia/Tehran<" not in html and ">Asia/Dubai<" not in html
        assert '<option value="America/Indiana/Marengo">' in html

    response = client.post(
        reverse("accounts:preferences"), {"time_zone": "America/Indiana/Marengo", "language": ""}
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.time_zone == "America/Indiana/Marengo"


def test_empty_preferences_follow_the_organisation(rep):
    organisation_update(actor=None, language="ar", calendar="hijri", digits="native")
    html = signed_in(rep).get(reverse("web:home")).content.decode()
    assert '<html lang="ar" dir="rtl"' in html
    assert 'data-calendar="hijri"' in html


def test_an_english_browser_gets_english_when_nobody_chose_a_language(rep):
    html = (
        signed_in(rep).get(reverse("web:home"), headers={"Accept-Language": "en"}).content.decode()
    )
    assert '<html lang="en" dir="ltr"' in html


def test_the_api_answers_in_the_token_users_language(rep):
    from wasl.core.testing import ApiClient

    rep.language = "fa"
    rep.save(update_fields=["language"])
    response = ApiClient(rep).post("contacts", {"first_name": ""})
    assert response.status_code == 422
    assert response.headers.get("Content-Language") == "fa"


def test_organisation_settings_are_for_admins_only(rep, admin):
    assert signed_in(rep).get(reverse("accounts:organisation")).status_code == 403
    assert signed_in(rep).post(reverse("accounts:organisation"), {"name": "x"}).status_code == 403
    # The menu's Settings entry (the settings index, or this page) is offered to admins only.
    home = signed_in(rep).get(reverse("web:home")).content.decode()
    assert "bi-gear" not in home
    admin_home = signed_in(admin).get(reverse("web:home")).content.decode()
    assert "bi-gear" in admin_home


def test_an_admin_changes_the_organisation_and_it_is_audited(admin):
    client = signed_in(admin)
    assert client.get(reverse("accounts:organisation")).status_code == 200
    response = client.post(
        reverse("accounts:organisation"),
        {
            "name": "Pars Trading",
            "currency": "aed",
            "phone_region": "AE",
            "language": "ar",
            "calendar": "gregorian",
            "time_zone": "Asia/Dubai",
            "digits": "latin",
            "week_start": "0",
            "working_days": ["0", "1", "2", "3", "4"],
        },
    )
    assert response.status_code == 302
    organisation = organisation_get()
    assert (organisation.name, organisation.currency, organisation.time_zone) == (
        "Pars Trading",
        "AED",
        "Asia/Dubai",
    )
    assert organisation.working_days == [0, 1, 2, 3, 4]
    entry = AuditEntry.objects.get(object_repr="Pars Trading")
    assert entry.actor_id == admin.pk
    assert entry.changes["currency"][1] == "AED"


def test_organisation_update_validates_and_checks_the_actor(rep):
    with pytest.raises(Forbidden):
        organisation_update(actor=rep, name="x")
    with pytest.raises(Invalid) as error:
        organisation_update(actor=None, currency="rial", time_zone="Nowhere", phone_region="ZZ")
    assert set(error.value.fields) == {"currency", "time_zone", "phone_region"}


def test_the_organisation_starts_from_the_settings(settings):
    settings.WASL_CURRENCY = "SAR"
    settings.WASL_PHONE_REGION = "SA"
    settings.WASL_TIME_ZONE = "Asia/Riyadh"
    organisation = organisation_get()
    assert (organisation.currency, organisation.phone_region, organisation.time_zone) == (
        "SAR",
        "SA",
        "Asia/Riyadh",
    )
    assert Organisation.objects.count() == 1


def test_password_change_page(rep):
    client = signed_in(rep)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Another-g00d-one",
            "new_password2": "Another-g00d-one",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("Another-g00d-one")


def test_signing_out_needs_a_post_and_ends_the_session(rep):
    client = signed_in(rep)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 302
