"""core/form_flow.submit: the valid form → service → message → redirect flow the edit pages share."""
import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory

from core.form_flow import submit


class NameForm(forms.Form):
    name = forms.CharField()


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_an_invalid_form_calls_nothing_and_returns_none():
    request, calls = _request(), []
    assert submit(request, NameForm({}), lambda: calls.append(1), success="ok", then=lambda _: HttpResponse()) is None
    assert calls == [] and list(get_messages(request)) == []


def test_a_valid_form_saves_then_says_so_and_answers_with_then():
    request = _request()
    response = submit(request, NameForm({"name": "a"}), lambda: "saved", success=lambda result: f"{result}!",
                      then=lambda result: HttpResponse(result))
    assert response.content == b"saved"
    assert [str(message) for message in get_messages(request)] == ["saved!"]


def test_a_service_refusal_lands_on_the_form_and_returns_none():
    request, form = _request(), NameForm({"name": "a"})

    def refuse():
        raise ValidationError({"name": "Taken."})

    assert submit(request, form, refuse, success="ok", then=lambda _: HttpResponse()) is None
    assert form.errors == {"name": ["Taken."]} and list(get_messages(request)) == []


@pytest.mark.parametrize("asked", [HttpResponse("confirm first"), None])
def test_ask_may_answer_before_the_service(asked):
    request, calls = _request(), []
    response = submit(request, NameForm({"name": "a"}), lambda: calls.append(1), success="ok",
                      then=lambda _: HttpResponse("done"), ask=lambda: asked)
    assert (response.content, calls) == ((b"confirm first", []) if asked else (b"done", [1]))
