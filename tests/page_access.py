"""The access rules that the pages of accounts and roles share, written once: anonymous visitors go to
the login page, Viewers read and change nothing, users without a console role read nothing, Editors
open every edit page, and each page refuses the HTTP methods it does not serve.

A test module subclasses :class:`PageAccessTests` as ``Test…`` and gives it its pages, their URLs
(``url``), the name of the fixture that makes the object the pages show (``target_fixture``) and what a
refused form would post.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.state import desired_state


def queries_for(client, url: str, params=None) -> int:
    """How many SQL queries a GET of the page makes (it must answer 200): for the tests that the
    number does not grow with the data."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


class PageAccessTests:
    read_pages: list[str] = []
    write_pages: list[str] = []
    target_fixture: str = ""

    @pytest.fixture
    def target(self, request):
        return request.getfixturevalue(self.target_fixture)

    def url(self, name: str, target) -> str:
        raise NotImplementedError

    def refused_post_data(self) -> dict:
        raise NotImplementedError

    def pytest_generate_tests(self, metafunc):
        for argument, names in (("read_page", self.read_pages), ("write_page", self.write_pages),
                                ("any_page", self.read_pages + self.write_pages)):
            if argument in metafunc.fixturenames:
                metafunc.parametrize(argument, names)

    def test_it_sends_anonymous_visitors_to_the_login_page(self, client, target, any_page):
        response = client.get(self.url(any_page, target))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    @pytest.mark.parametrize("who, method, status", [("viewer", "get", 200), ("nobody", "get", 403), ("editor", "post", 405)],
                             ids=["a viewer reads every page", "a user without a console role reads nothing",
                                  "read pages refuse POST"])
    def test_read_pages(self, people, client_for, target, read_page, who, method, status):
        assert getattr(client_for(getattr(people, who)), method)(self.url(read_page, target)).status_code == status

    def test_a_viewer_may_neither_open_nor_post_an_edit_page(self, people, client_for, target, write_page):
        client = client_for(people.viewer)
        before = desired_state()
        assert client.get(self.url(write_page, target)).status_code == 403
        assert client.post(self.url(write_page, target), self.refused_post_data()).status_code == 403
        assert desired_state() == before

    @pytest.mark.parametrize("method, status", [("get", 200), ("put", 405), ("delete", 405)],
                             ids=["an editor opens every edit page", "edit pages refuse PUT", "edit pages refuse DELETE"])
    def test_an_editor_and_the_edit_pages(self, people, client_for, target, write_page, method, status):
        assert getattr(client_for(people.editor), method)(self.url(write_page, target)).status_code == status
