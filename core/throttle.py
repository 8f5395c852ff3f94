"""Heavy reads started by a person are throttled per person: reading AWS (the live-roles page, a plan
request, whose worker reads every account) and walking the whole audit chain.

Each is cheap for the person and expensive for everyone else (AWS's API rate limits are shared by the
whole account; a chain walk reads every audit row). A fixed window per person and kind is counted in
Django's cache (``CACHES``, see settings.py: shared by every process once ``CACHE_URL`` points at Redis);
past the limit the answer is a 429 page saying when to try again, with ``Retry-After``.
"""
import math
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

AWS_READ = "aws_read"
CHAIN_WALK = "chain_walk"
_WHAT = {AWS_READ: "reads from AWS", CHAIN_WALK: "full checks of the audit chain"}


def _now() -> float:
    return time.time()


def _limit(kind: str) -> tuple[int, int]:
    count, seconds = settings.ROLEMODEL_HEAVY_READ_LIMITS[kind]
    return int(count), int(seconds)


def retry_after(user, kind: str) -> int:
    """0 when ``user`` may start one more ``kind`` now (and counts it), else the seconds to wait."""
    count, seconds = _limit(kind)
    now = _now()
    window = int(now // seconds)
    key = f"rolemodel:throttle:{kind}:{user.pk}:{window}"
    cache.add(key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr: start the window again
        cache.set(key, 1, timeout=seconds + 1)
        used = 1
    if used <= count:
        return 0
    return max(1, math.ceil((window + 1) * seconds - now))


def throttled(kind: str, *, when=lambda request: True):
    """View decorator, inside ``require(...)``: ``kind`` counts for this person when ``when(request)``."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if when(request):
                wait = retry_after(request.user, kind)
                if wait:
                    return too_many(request, kind=kind, wait=wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def too_many(request, *, kind: str, wait: int):
    count, seconds = _limit(kind)
    context = {"what": _WHAT[kind], "count": count, "seconds": seconds, "wait": wait}
    response = render(request, "core/throttled.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response
