"""Settings pages: who may open them, and every write through the services (audited)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from wasl.accounts.models import Team, User
from wasl.accounts.services import organisation_update
from wasl.activities.services import activity_create
from wasl.contacts.models import CustomFieldDefinition, Tag
from wasl.contacts.services import contact_create, custom_field_create, tag_create
from wasl.core.models import AuditEntry
from wasl.core.testing import client_for
from wasl.deals.models import LostReason, Pipeline, Stage
from wasl.deals.services import (
    deal_create,
    lost_reason_create,
    pipeline_create,
    pipeline_ensure_default,
)

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    ("settings:index", {}),
    ("settings:pipelines", {}),
    ("settings:lost-reasons", {}),
    ("settings:custom-fields", {}),
    ("settings:users", {}),
    ("settings:user-create", {}),
    ("settings:teams", {}),
]


@pytest.fixture(autouse=True)
def english():
    organisation_update(actor=None, language="en", calendar="gregorian", digits="latin")


def stage_names(pipeline) -> list[str]:
    return list(
        Stage.objects.filter(pipeline=pipeline).order_by("position").values_list("name", flat=True)
    )


def audited(record, action="update") -> bool:
    return AuditEntry.objects.filter(object_public_id=record.public_id, action=action).exists()


# ---------------------------------------------------------------- who may open them


@pytest.mark.parametrize(("name", "kwargs"), ADMIN_PAGES)
def test_an_admin_opens_every_settings_page(personas, name, kwargs):
    pipeline_ensure_default(actor=None)
    response = client_for(personas.admin).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "readonly"])
@pytest.mark.parametrize(("name", "kwargs"), ADMIN_PAGES)
def test_everyone_else_is_refused_the_admin_pages(personas, persona, name, kwargs):
    response = client_for(getattr(personas, persona)).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "readonly"])
def test_non_admins_cannot_force_a_write(personas, persona):
    pipeline = pipeline_ensure_default(actor=None)
    client = client_for(getattr(personas, persona))
    responses = [
        client.post(reverse("settings:pipelines"), {"name": "Forced"}),
        client.post(reverse("settings:stage-create", args=[pipeline.public_id]), {"name": "X"}),
        client.post(reverse("settings:lost-reasons"), {"name": "Forced"}),
        client.post(reverse("settings:user-create"), {"username": "forced", "role": "admin"}),
        client.post(reverse("settings:teams"), {"name": "Forced"}),
    ]
    assert {r.status_code for r in responses} == {403}
    assert not Pipeline.objects.filter(name="Forced").exists()
    assert not User.objects.filter(username="forced").exists()
    assert not Team.objects.filter(name="Forced").exists()


def test_the_nav_offers_settings_to_admins_only(personas):
    admin_home = client_for(personas.admin).get(reverse("web:home")).content.decode()
    rep_home = client_for(personas.rep_a).get(reverse("web:home")).content.decode()
    assert "bi-gear" in admin_home
    assert "bi-gear" not in rep_home
    assert reverse("settings:index") not in rep_home


def test_the_side_menu_leads_to_the_exchange_rates(personas):
    html = client_for(personas.admin).get(reverse("settings:users")).content.decode()
    menu = html.split('aria-label="Settings sections"')[1].split("</nav>")[0]
    assert f'href="{reverse("reports:exchange-rates")}"' in menu


def test_settings_need_sign_in():
    response = Client().get(reverse("settings:pipelines"))
    assert response.status_code == 302


def test_an_unknown_record_is_not_found(personas):
    client = client_for(personas.admin)
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(reverse("settings:pipeline", args=[missing])).status_code == 404
    assert client.get(reverse("settings:user", args=[missing])).status_code == 404
    assert client.get(reverse("settings:custom-field", args=[missing])).status_code == 404


def test_writes_need_csrf(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.admin)
    assert client.post(reverse("settings:pipelines"), {"name": "No token"}).status_code == 403
    assert not Pipeline.objects.filter(name="No token").exists()


# ---------------------------------------------------------------- pipelines and stages


def test_an_admin_creates_a_pipeline_with_the_usual_stages(personas):
    response = client_for(personas.admin).post(reverse("settings:pipelines"), {"name": "Export"})
    pipeline = Pipeline.objects.get(name="Export")
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:pipeline", args=[pipeline.public_id])
    assert len(stage_names(pipeline)) == 6
    assert audited(pipeline, "create")


def test_an_empty_pipeline_name_is_shown_beside_the_field(personas):
    response = client_for(personas.admin).post(reverse("settings:pipelines"), {"name": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert "is-invalid" in html and "invalid-feedback" in html


def test_an_admin_adds_a_stage_and_moves_it_up(personas):
    pipeline = pipeline_create(
        actor=None,
        name="Small",
        stages=[
            {"name": "New", "kind": "open"},
            {"name": "Won", "kind": "won"},
            {"name": "Lost", "kind": "lost"},
        ],
    )
    client = client_for(personas.admin)
    response = client.post(
        reverse("settings:stage-create", args=[pipeline.public_id]),
        {"name": "Demo", "probability": "40", "kind": "open"},
    )
    assert response.status_code == 302
    assert stage_names(pipeline) == ["New", "Demo", "Won", "Lost"]
    demo = Stage.objects.get(pipeline=pipeline, name="Demo")
    assert demo.probability == 40 and audited(demo, "create")

    client.post(
        reverse("settings:stage-move", args=[pipeline.public_id, demo.public_id]),
        {"direction": "up"},
    )
    assert stage_names(pipeline) == ["Demo", "New", "Won", "Lost"]
    assert audited(pipeline, "update")


def test_a_duplicate_stage_name_is_refused_beside_the_field(personas):
    pipeline = pipeline_ensure_default(actor=None)
    first = stage_names(pipeline)[0]
    response = client_for(personas.admin).post(
        reverse("settings:stage-create", args=[pipeline.public_id]), {"name": first, "kind": "open"}
    )
    assert response.status_code == 422
    assert "This pipeline already has a stage with this name." in response.content.decode()
    assert stage_names(pipeline).count(first) == 1


def test_stages_are_reordered_by_drag_and_drop(personas):
    pipeline = pipeline_ensure_default(actor=None)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    order = [stages[1], stages[0], *stages[2:]]
    response = client_for(personas.admin).post(
        reverse("settings:stage-reorder", args=[pipeline.public_id]),
        {"stage": [str(s.public_id) for s in order]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="stage-table"' in response.content.decode()
    assert "<html" not in response.content.decode()
    assert stage_names(pipeline) == [s.name for s in order]


def test_a_reorder_missing_a_stage_is_refused(personas):
    pipeline = pipeline_ensure_default(actor=None)
    before = stage_names(pipeline)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    response = client_for(personas.admin).post(
        reverse("settings:stage-reorder", args=[pipeline.public_id]),
        {"stage": [str(s.public_id) for s in reversed(stages[1:])]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert stage_names(pipeline) == before


def test_a_stage_is_renamed_with_a_new_probability_and_kind(personas):
    pipeline = pipeline_ensure_default(actor=None)
    stage = Stage.objects.filter(pipeline=pipeline, kind="open").order_by("position").last()
    response = client_for(personas.admin).post(
        reverse("settings:stage-update", args=[pipeline.public_id, stage.public_id]),
        {"name": "Contract", "probability": "90", "kind": "open"},
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.probability) == ("Contract", 90)
    assert audited(stage)


def test_a_probability_over_100_is_refused_beside_the_field(personas):
    pipeline = pipeline_ensure_default(actor=None)
    stage = Stage.objects.filter(pipeline=pipeline).first()
    response = client_for(personas.admin).post(
        reverse("settings:stage-update", args=[pipeline.public_id, stage.public_id]),
        {"name": stage.name, "probability": "150", "kind": stage.kind},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    stage.refresh_from_db()
    assert stage.probability <= 100


def test_a_stage_holding_deals_keeps_its_kind_and_is_not_deleted(personas):
    pipeline = pipeline_ensure_default(actor=None)
    deal = deal_create(actor=personas.rep_a, title="Busy", amount=1, currency="USD")
    stage = deal.stage
    client = client_for(personas.admin)
    response = client.post(
        reverse("settings:stage-update", args=[pipeline.public_id, stage.public_id]),
        {"name": stage.name, "kind": "won"},
    )
    assert response.status_code == 422
    assert "move them before changing its kind" in response.content.decode()
    response = client.post(
        reverse("settings:stage-delete", args=[pipeline.public_id, stage.public_id]), follow=True
    )
    assert "1 deal is in this stage" in response.content.decode()
    assert Stage.objects.filter(pk=stage.pk).exists()


def test_an_unused_stage_is_deleted(personas):
    pipeline = pipeline_ensure_default(actor=None)
    stage = Stage.objects.filter(pipeline=pipeline, kind="open").order_by("position").last()
    client_for(personas.admin).post(
        reverse("settings:stage-delete", args=[pipeline.public_id, stage.public_id])
    )
    assert not Stage.objects.filter(pk=stage.pk).exists()


def test_a_stage_of_another_pipeline_is_not_found(personas):
    first = pipeline_ensure_default(actor=None)
    second = pipeline_create(actor=None, name="Second")
    foreign = Stage.objects.filter(pipeline=second).first()
    response = client_for(personas.admin).post(
        reverse("settings:stage-update", args=[first.public_id, foreign.public_id]),
        {"name": "Hijack", "kind": "open"},
    )
    assert response.status_code == 404


def test_a_pipeline_is_renamed_made_default_archived_and_restored(personas):
    first = pipeline_ensure_default(actor=None)
    second = pipeline_create(actor=None, name="Second")
    client = client_for(personas.admin)
    url = reverse("settings:pipeline", args=[second.public_id])
    client.post(url, {"action": "rename", "name": "Projects"})
    client.post(url, {"action": "make_default"})
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.name == "Projects" and second.is_default and not first.is_default

    archive = client.post(url, {"action": "archive"}, follow=True)
    assert "cannot be archived" in archive.content.decode()
    client.post(reverse("settings:pipeline", args=[first.public_id]), {"action": "archive"})
    first.refresh_from_db()
    assert not first.is_active
    client.post(reverse("settings:pipeline", args=[first.public_id]), {"action": "restore"})
    first.refresh_from_db()
    assert first.is_active


def test_the_pipelines_page_costs_a_bounded_number_of_queries(
    personas, django_assert_max_num_queries
):
    client = client_for(personas.admin)
    pipeline = pipeline_ensure_default(actor=None)
    client.get(reverse("settings:pipeline", args=[pipeline.public_id]))
    with django_assert_max_num_queries(15):
        client.get(reverse("settings:pipelines"))
    with django_assert_max_num_queries(15) as small:
        client.get(reverse("settings:pipeline", args=[pipeline.public_id]))
    for n in range(10):
        pipeline_create(actor=None, name=f"P{n}")
        client.post(
            reverse("settings:stage-create", args=[pipeline.public_id]),
            {"name": f"S{n}", "kind": "open"},
        )
    with django_assert_max_num_queries(15):
        client.get(reverse("settings:pipelines"))
    with django_assert_max_num_queries(15) as large:
        client.get(reverse("settings:pipeline", args=[pipeline.public_id]))
    assert len(large.captured_queries) == len(small.captured_queries)


# ---------------------------------------------------------------- lost reasons


def test_lost_reasons_are_added_renamed_reordered_and_deactivated(personas):
    client = client_for(personas.admin)
    client.post(reverse("settings:lost-reasons"), {"name": "Price"})
    client.post(reverse("settings:lost-reasons"), {"name": "Timing"})
    price, timing = LostReason.objects.get(name="Price"), LostReason.objects.get(name="Timing")
    assert price.position < timing.position and audited(price, "create")

    client.post(reverse("settings:lost-reason", args=[timing.public_id]), {"action": "up"})
    names = list(LostReason.objects.order_by("position").values_list("name", flat=True))
    assert names == ["Timing", "Price"]

    client.post(
        reverse("settings:lost-reason", args=[price.public_id]),
        {"action": "rename", "name": "Too expensive"},
    )
    client.post(reverse("settings:lost-reason", args=[price.public_id]), {"action": "deactivate"})
    price.refresh_from_db()
    assert price.name == "Too expensive" and not price.is_active and audited(price)
    html = client.get(reverse("settings:lost-reasons")).content.decode()
    assert "Too expensive" in html and "Activate" in html


def test_a_duplicate_lost_reason_is_shown_beside_the_field(personas):
    lost_reason_create(actor=None, name="Price")
    response = client_for(personas.admin).post(reverse("settings:lost-reasons"), {"name": "price"})
    assert response.status_code == 422
    assert "This reason is already listed." in response.content.decode()
    assert LostReason.objects.count() == 1


# ---------------------------------------------------------------- custom fields


def test_an_admin_adds_a_choice_field_with_labels_in_three_languages(personas):
    response = client_for(personas.admin).post(
        reverse("settings:custom-fields") + "?entity=company",
        {
            "kind": "choice",
            "key": "tier",
            "label_en": "Tier",
            "label_fa": "سطح",
            "label_ar": "المستوى",
            "required": "on",
            "choices_text": "gold | Gold | طلایی | ذهبي\nsilver | Silver",
        },
    )
    assert response.status_code == 302
    field = CustomFieldDefinition.objects.get(entity="company", key="tier")
    assert field.required and field.label_fa == "سطح"
    assert field.choices == [
        {"value": "gold", "en": "Gold", "fa": "طلایی", "ar": "ذهبي"},
        {"value": "silver", "en": "Silver"},
    ]
    assert audited(field, "create")


def test_a_choice_field_without_choices_is_refused_beside_the_field(personas):
    response = client_for(personas.admin).post(
        reverse("settings:custom-fields"),
        {"kind": "multi_choice", "key": "areas", "label_en": "Areas", "choices_text": ""},
    )
    assert response.status_code == 422
    assert "List the choices, one a line." in response.content.decode()
    assert not CustomFieldDefinition.objects.exists()


def test_a_bad_key_and_a_bad_pattern_are_shown_beside_their_fields(personas):
    response = client_for(personas.admin).post(
        reverse("settings:custom-fields"),
        {"kind": "text", "key": "Bad Key", "label_en": "Code", "pattern": "[unclosed"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "The pattern is not a valid regular expression." in html
    response = client_for(personas.admin).post(
        reverse("settings:custom-fields"), {"kind": "text", "key": "Bad Key", "label_en": "Code"}
    )
    assert "Use lowercase letters" in response.content.decode()
    assert not CustomFieldDefinition.objects.exists()


def test_a_number_field_keeps_its_limits_and_is_edited_then_deactivated(personas):
    client = client_for(personas.admin)
    client.post(
        reverse("settings:custom-fields"),
        {
            "kind": "number",
            "key": "seats",
            "label_en": "Seats",
            "min_value": "1",
            "max_value": "500",
        },
    )
    field = CustomFieldDefinition.objects.get(key="seats")
    assert field.validation == {"min": 1, "max": 500}

    page = client.get(reverse("settings:custom-field", args=[field.public_id]))
    assert page.status_code == 200 and 'value="500"' in page.content.decode()
    bad = client.post(
        reverse("settings:custom-field", args=[field.public_id]),
        {"label_en": "Seats", "min_value": "10", "max_value": "5"},
    )
    assert bad.status_code == 422
    client.post(
        reverse("settings:custom-field", args=[field.public_id]),
        {"label_en": "Licences", "label_fa": "مجوزها", "min_value": "1", "max_value": "900"},
    )
    field.refresh_from_db()
    assert field.label_en == "Licences" and field.validation == {"min": 1, "max": 900}

    client.post(reverse("settings:custom-field-deactivate", args=[field.public_id]))
    field.refresh_from_db()
    assert not field.is_active and audited(field)
    assert "Licences" not in client.get(reverse("settings:custom-fields")).content.decode()


def test_an_unknown_entity_is_not_found(personas):
    response = client_for(personas.admin).get(reverse("settings:custom-fields") + "?entity=ship")
    assert response.status_code == 404


def test_labels_of_an_existing_field_show_on_the_list(personas):
    custom_field_create(actor=None, entity="deal", key="po", label_en="PO number", kind="text")
    html = client_for(personas.admin).get(reverse("settings:custom-fields") + "?entity=deal")
    assert "PO number" in html.content.decode()


# ---------------------------------------------------------------- tags


def test_a_manager_renames_and_recolours_a_tag_but_cannot_delete_it(personas):
    tag = tag_create(actor=personas.rep_a, name="vip")
    client = client_for(personas.manager_a)
    page = client.get(reverse("settings:tags"))
    assert page.status_code == 200
    assert reverse("settings:tag-delete", args=[tag.public_id]) not in page.content.decode()
    response = client.post(
        reverse("settings:tag", args=[tag.public_id]), {"name": "VIP customers", "color": "#ff0000"}
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.color) == ("VIP customers", "#ff0000") and audited(tag)
    assert client.post(reverse("settings:tag-delete", args=[tag.public_id])).status_code == 403
    assert Tag.objects.filter(pk=tag.pk).exists()


def test_reps_cannot_open_the_tags_page(personas):
    tag = tag_create(actor=personas.rep_a, name="vip")
    client = client_for(personas.rep_a)
    assert client.get(reverse("settings:tags")).status_code == 403
    response = client.post(reverse("settings:tag", args=[tag.public_id]), {"name": "mine"})
    assert response.status_code == 403


def test_an_admin_deletes_a_tag_after_confirming(personas):
    tag = tag_create(actor=personas.rep_a, name="old")
    client = client_for(personas.admin)
    confirm = client.get(reverse("settings:tag-delete", args=[tag.public_id]))
    assert confirm.status_code == 200 and "old" in confirm.content.decode()
    assert Tag.objects.filter(pk=tag.pk).exists()
    client.post(reverse("settings:tag-delete", args=[tag.public_id]))
    assert not Tag.objects.filter(pk=tag.pk).exists()
    assert AuditEntry.objects.filter(object_public_id=tag.public_id, action="delete").exists()


def test_a_duplicate_tag_name_and_a_bad_colour_are_refused(personas):
    tag_create(actor=personas.rep_a, name="vip")
    other = tag_create(actor=personas.rep_a, name="lead")
    client = client_for(personas.admin)
    response = client.post(reverse("settings:tag", args=[other.public_id]), {"name": "VIP"})
    assert response.status_code == 422
    assert "A tag with this name exists." in response.content.decode()
    response = client.post(
        reverse("settings:tag", args=[other.public_id]), {"name": "lead", "color": "red; x"}
    )
    assert response.status_code == 422


# ---------------------------------------------------------------- users and teams


def test_an_admin_creates_a_user_with_a_role_and_team(personas):
    team = personas.rep_a.team
    response = client_for(personas.admin).post(
        reverse("settings:user-create"),
        {
            "username": "maryam",
            "first_name": "Maryam",
            "role": "manager",
            "team": str(team.public_id),
            "email": "Maryam@Example.com",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="maryam")
    assert (user.role, user.team_id, user.email) == ("manager", team.pk, "maryam@example.com")
    assert not user.has_usable_password()
    assert audited(user, "create")


def test_a_taken_user_name_and_a_weak_password_are_shown_beside_their_fields(personas):
    response = client_for(personas.admin).post(
        reverse("settings:user-create"),
        {"username": "REP_A", "role": "rep", "password": "123"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "This user name is taken." in html
    assert html.count("invalid-feedback") >= 2


def test_an_admin_changes_a_users_role_team_and_active_flag(personas):
    user = personas.rep_a
    other_team = personas.rep_c.team
    response = client_for(personas.admin).post(
        reverse("settings:user", args=[user.public_id]),
        {"role": "manager", "team": str(other_team.public_id), "is_active": ""},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.role, user.team_id, user.is_active) == ("manager", other_team.pk, False)
    assert audited(user)


def test_an_admin_cannot_demote_or_deactivate_themselves(personas):
    admin = personas.admin
    response = client_for(admin).post(
        reverse("settings:user", args=[admin.public_id]), {"role": "rep", "is_active": ""}
    )
    assert response.status_code == 422
    admin.refresh_from_db()
    assert admin.role == "admin" and admin.is_active


def test_a_leaving_users_records_are_handed_over_after_confirmation(personas):
    contact = contact_create(actor=personas.rep_a, first_name="Sara")
    activity = activity_create(actor=personas.rep_a, kind="task", subject="Follow up")
    client = client_for(personas.admin)
    url = reverse("settings:user-reassign", args=[personas.rep_a.public_id])

    confirm = client.post(url, {"to_user": str(personas.rep_b.public_id)})
    assert confirm.status_code == 200
    assert 'name="confirm"' in confirm.content.decode()
    contact.refresh_from_db()
    assert contact.owner_id == personas.rep_a.pk

    done = client.post(
        url, {"to_user": str(personas.rep_b.public_id), "confirm": "on"}, follow=True
    )
    assert "2 records moved" in done.content.decode()
    contact.refresh_from_db()
    activity.refresh_from_db()
    assert contact.owner_id == activity.owner_id == personas.rep_b.pk
    assert AuditEntry.objects.filter(object_public_id=contact.public_id, action="assign").exists()


def test_records_cannot_be_handed_to_the_same_or_an_unknown_user(personas):
    client = client_for(personas.admin)
    url = reverse("settings:user-reassign", args=[personas.rep_a.public_id])
    response = client.post(url, {"to_user": str(personas.rep_a.public_id), "confirm": "on"})
    assert response.status_code == 422
    response = client.post(url, {"to_user": "", "confirm": "on"})
    assert response.status_code == 422


def test_an_admin_creates_a_team_with_a_manager_and_renames_it(personas):
    client = client_for(personas.admin)
    client.post(
        reverse("settings:teams"), {"name": "Shiraz", "manager": str(personas.manager_b.public_id)}
    )
    team = Team.objects.get(name="Shiraz")
    assert team.manager_id == personas.manager_b.pk and audited(team, "create")
    duplicate = client.post(reverse("settings:teams"), {"name": "shiraz"})
    assert duplicate.status_code == 422 and Team.objects.filter(name__iexact="shiraz").count() == 1

    client.post(
        reverse("settings:team", args=[team.public_id]), {"name": "Shiraz branch", "manager": ""}
    )
    team.refresh_from_db()
    assert team.name == "Shiraz branch" and team.manager is None and audited(team)


def test_renaming_a_team_to_a_taken_name_is_shown_beside_the_field(personas):
    team = personas.rep_a.team
    response = client_for(personas.admin).post(
        reverse("settings:team", args=[team.public_id]), {"name": "Team B"}
    )
    assert response.status_code == 422
    assert "A team with this name exists." in response.content.decode()


def test_the_users_page_costs_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    client = client_for(personas.admin)
    client.get(reverse("settings:users"))
    with django_assert_max_num_queries(15) as small:
        client.get(reverse("settings:users"))
    for n in range(20):
        contact_create(actor=personas.rep_a, first_name=f"C{n}")
        client.post(reverse("settings:user-create"), {"username": f"u{n}", "role": "rep"})
    with django_assert_max_num_queries(15) as large:
        client.get(reverse("settings:users"))
    assert len(large.captured_queries) == len(small.captured_queries)
