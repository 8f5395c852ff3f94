"""The access rules that the pages of accounts and roles share, written once: anonymous visitors go to
the login page, Viewers read and change nothing, users without a console role read nothing, Editors
open every edit page, and each page refuses the HTTP methods it does not serve.

A test module subclasses :class:`PageAccessTests` as ``Test…`` and gives it its pages, their URLs, a
``target`` fixture (the object the pages show) and what a refused form would post.
"""
from django.urls import reverse

from tests.state import desired_state


class PageAccessTests:
    read_pages: list[str] = []
    write_pages: list[str] = []

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

    def test_a_viewer_reads_every_page(self, people, client_for, target, read_page):
        assert client_for(people.viewer).get(self.url(read_page, target)).status_code == 200

    def test_a_user_without_a_console_role_reads_nothing(self, people, client_for, target, read_page):
        assert client_for(people.nobody).get(self.url(read_page, target)).status_code == 403

    def test_a_viewer_may_neither_open_nor_post_an_edit_page(self, people, client_for, target, write_page):
        client = client_for(people.viewer)
        before = desired_state()
        assert client.get(self.url(write_page, target)).status_code == 403
        assert client.post(self.url(write_page, target), self.refused_post_data()).status_code == 403
        assert desired_state() == before

    def test_an_editor_opens_every_edit_page(self, people, client_for, target, write_page):
        assert client_for(people.editor).get(self.url(write_page, target)).status_code == 200

    def test_read_pages_refuse_post(self, people, client_for, target, read_page):
        assert client_for(people.editor).post(self.url(read_page, target)).status_code == 405

    def test_edit_pages_refuse_put_and_delete(self, people, client_for, target, write_page):
        client = client_for(people.editor)
        assert client.put(self.url(write_page, target)).status_code == 405
        assert client.delete(self.url(write_page, target)).status_code == 405
