from core.permissions import CAPABILITIES, has_capability


def console_roles(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"can": {capability: has_capability(user, capability) for capability in CAPABILITIES}}
