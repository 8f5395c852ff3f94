"""No browser or proxy keeps a copy of what a signed-in person saw: every response to a request that
carries a session (every signed-in person's), and every download (an export), carries
``Cache-Control: no-store`` (with the rest of Django's never-cache headers).

A shared computer's back button or disk cache would otherwise show the access matrix or the audit
history to the next person. The session cookie is the test, not ``request.user``: looking the user up
needs the database, and this must also hold for the "database unavailable" page (core/db_unavailable.py).
Static files are answered by WhiteNoise before this runs.
"""
from django.conf import settings
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
        download = response.get("Content-Disposition", "").lower().startswith("attachment")
        if has_session or download:
            add_never_cache_headers(response)
        return response
