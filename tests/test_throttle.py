"""Heavy reads started by a person are throttled per person: AWS reads (the live-roles page, plan
requests) and full audit-chain walks answer 429 with Retry-After past the limit; others are not slowed."""
import pytest
from django.urls import reverse

from plans import live
from plans.models import Plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.ROLEMODEL_HEAVY_READ_LIMITS = {"aws_read": (3, 60), "chain_walk": (2, 3600)}


@pytest.fixture
def aws_reads(monkeypatch):
    """Counts the live reads the page starts (no AWS needed to count them)."""
    started = []
    monkeypatch.setattr(live, "live_roles", lambda: started.append(1) or {"accounts": [], "api_calls": {}})
    return started


def test_the_live_roles_read_is_throttled_per_person_with_retry_after(client_for, people, limits, aws_reads):
    viewer = client_for(people.viewer)
    for _ in range(3):
        assert viewer.get(reverse("plans:live_roles"), {"read": "1"}).status_code == 200

    refused = viewer.get(reverse("plans:live_roles"), {"read": "1"})

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert 'id="throttled"' in page and "3 reads from AWS in the last 60 seconds" in page
    assert len(aws_reads) == 3


def test_the_page_without_a_read_is_not_counted(client_for, people, limits, aws_reads):
    viewer = client_for(people.viewer)
    for _ in range(10):
        assert viewer.get(reverse("plans:live_roles")).status_code == 200
    assert aws_reads == []


def test_another_person_is_not_slowed_down(client, client_for, people, limits, aws_reads):
    viewer = client_for(people.viewer)
    for _ in range(4):
        viewer.get(reverse("plans:live_roles"), {"read": "1"})
    client.logout()
    other = client_for(people.editor)
    assert other.get(reverse("plans:live_roles"), {"read": "1"}).status_code == 200


def test_plan_requests_count_as_aws_reads(client_for, people, limits, aws_reads, django_capture_on_commit_callbacks):
    editor = client_for(people.editor)
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(3):
            assert editor.post(reverse("plans:create")).status_code == 302
        refused = editor.post(reverse("plans:create"))
    assert refused.status_code == 429 and refused["Retry-After"]
    assert Plan.objects.count() == 3


def test_full_chain_walks_are_throttled(client_for, people, limits, monkeypatch):
    from audit import chain

    walks = []
    real = chain.verify_chain
    monkeypatch.setattr(chain, "verify_chain", lambda *a, **k: walks.append(1) or real(*a, **k))
    viewer = client_for(people.viewer)

    assert viewer.get(reverse("audit:list"), {"verify": "1"}).status_code == 200
    assert viewer.get(reverse("audit:list"), {"verify": "1"}).status_code == 200
    refused = viewer.get(reverse("audit:list"), {"verify": "1"})

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "full checks of the audit chain" in refused.content.decode()
    assert len(walks) == 2
    assert viewer.get(reverse("audit:list")).status_code == 200  # the page itself still shows


def test_the_limit_comes_back_after_the_window(client_for, people, limits, aws_reads, monkeypatch):
    from core import throttle

    now = [1_000_040.0]  # 20 seconds into a minute
    monkeypatch.setattr(throttle, "_now", lambda: now[0])
    viewer = client_for(people.viewer)
    for _ in range(3):
        viewer.get(reverse("plans:live_roles"), {"read": "1"})
    refused = viewer.get(reverse("plans:live_roles"), {"read": "1"})
    assert refused.status_code == 429 and refused["Retry-After"] == "40"

    now[0] += 41
    assert viewer.get(reverse("plans:live_roles"), {"read": "1"}).status_code == 200
