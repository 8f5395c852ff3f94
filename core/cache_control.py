"""No browser or proxy keeps a copy of what a signed-in person saw: every response to a signed-in user,
and every download (an export), carries ``Cache-Control: no-store`` (with Django's never-cache set).

A shared computer's back button or disk cache would otherwise show the access matrix or the audit
history to the next person. Sign-in and error pages for anonymous visitors are left cacheable as Django
makes them; static files are answered by WhiteNoise before this runs.
"""
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        download = response.get("Content-Disposition", "").lower().startswith("attachment")
        if signed_in or download:
            add_never_cache_headers(response)
        return response
