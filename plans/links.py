"""Links of a plan's blocks, built by the page from the target the planner stored.

The worker stores what a block is about ({"kind": "role", "id": 3, "confirm_replacement": true}),
never a URL: URLs belong to the web side, and a moved page must not leave stored plans pointing
nowhere. Plans stored before targets were kept carry a "link"; it is shown as it was.
"""
from urllib.parse import urlencode

from django.urls import reverse

# kind -> URL name, for targets that need no argument.
_PAGES = {
    "accounts": "accounts:list",
    "master": "accounts:master_edit",
    "dashboard": "console:dashboard",
    "roles": "roles:list",
}


def target_url(target: dict) -> str:
    """The URL of a block's target, or "" when the kind is unknown (a block from a newer release)."""
    kind = target.get("kind")
    if kind in _PAGES:
        return reverse(_PAGES[kind])
    if kind == "role":
        url = reverse("roles:edit", args=[target["id"]])
        return url + "?confirm_replacement=1" if target.get("confirm_replacement") else url
    if kind == "iam_user":
        return reverse("memberships:iam_user_list") + "?" + urlencode({"q": target.get("q", "")})
    return ""


def block_link(block: dict) -> str:
    """Where a block's message leads: built from its target, or the link an older row stored."""
    target = block.get("target")
    if target:
        try:
            return target_url(target)
        except KeyError:  # a role target without its id: the message still shows, unlinked
            return ""
    return block.get("link", "")
