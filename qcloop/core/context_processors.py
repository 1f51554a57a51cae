def membership(request):
    """The signed-in user's organisation and role, for the navigation of every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = user.membership
    return {
        "membership": membership,
        "organisation": membership.organisation if membership else None,
    }
