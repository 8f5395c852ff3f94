"""The deliveries page (Admins) and each person's email settings."""
import pytest
from django.urls import reverse

from notifications.models import Delivery, EmailPreference, Event
from tests.page_access import queries_for

pytestmark = pytest.mark.django_db

DELIVERIES = reverse("notifications:delivery_list")
PREFERENCES = reverse("notifications:preferences")


def make_delivery(status: str, *, error: str = "", subject_id: str = "1") -> Delivery:
    return Delivery.objects.create(
        event=Event.APPLY_FAILED, channel=Delivery.Channel.WEBHOOK, recipient="https://hooks.example.com",
        subject_kind="plan", subject_id=subject_id, summary=f"The apply of plan #{subject_id} failed", payload={},
        status=status, attempts=3, last_error=error)


def test_admins_see_each_delivery_with_its_status_attempts_and_last_error_and_filter_by_status(people, client_for):
    make_delivery(Delivery.Status.FAILED, error="Gave up after 3 attempts: https://hooks.example.com answered 500")
    make_delivery(Delivery.Status.SENT, subject_id="2")
    client = client_for(people.admin)
    page = client.get(DELIVERIES).content.decode()
    assert "Gave up after 3 attempts: https://hooks.example.com answered 500" in page and "plan #2" in page
    assert f'href="{DELIVERIES}"' in client.get(reverse("console:dashboard")).content.decode()  # in the nav

    failed_only = client.get(DELIVERIES, {"status": "failed"}).content.decode()
    assert "plan #1" in failed_only and "plan #2" not in failed_only
    refused = client.get(DELIVERIES, {"status": "lost"}).content.decode()
    assert "Select a valid choice" in refused and "plan #1" not in refused


def test_the_deliveries_page_reads_a_fixed_number_of_queries(people, client_for):
    client = client_for(people.admin)
    make_delivery(Delivery.Status.SENT)
    few = queries_for(client, DELIVERIES)
    for number in range(2, 12):
        make_delivery(Delivery.Status.SENT, subject_id=str(number))
    assert queries_for(client, DELIVERIES) == few


def test_the_nav_links_the_deliveries_only_for_admins(people, client_for):
    assert DELIVERIES not in client_for(people.approver).get(reverse("console:dashboard")).content.decode()


def test_a_person_chooses_their_email_events_on_their_own_page(people, client_for):
    client = client_for(people.approver)
    page = client.get(PREFERENCES).content.decode()
    assert "april@example.com" in page and "Plan waiting for approval" in page
    assert "Plan approved (not addressed to your console roles)" in page

    response = client.post(PREFERENCES, {"email_events": [Event.APPLY_FAILED, Event.APPLY_SUCCEEDED]})
    assert response.status_code == 302
    assert EmailPreference.objects.get(user=people.approver).email_events == ["apply_succeeded", "apply_failed"]

    client.post(PREFERENCES, {})  # nothing ticked: no email at all
    assert EmailPreference.objects.get(user=people.approver).email_events == []


def test_an_unknown_event_is_refused_and_nothing_is_saved(people, client_for):
    response = client_for(people.viewer).post(PREFERENCES, {"email_events": ["plan_approved", "everything"]})
    assert response.status_code == 200
    assert "Select a valid choice. everything is not one of the available choices." in response.content.decode()
    assert not EmailPreference.objects.exists()


def test_a_person_changes_only_their_own_email_settings(people, client_for):
    # The page has no field naming a person: one naming someone else is ignored, the sender's row changes.
    client_for(people.viewer).post(PREFERENCES, {"email_events": [Event.APPLY_FAILED], "user": people.admin.pk,
                                                 "user_id": people.admin.pk})
    assert list(EmailPreference.objects.values_list("user", flat=True)) == [people.viewer.pk]
