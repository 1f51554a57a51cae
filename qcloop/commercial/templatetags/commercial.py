from django import template

from qcloop.core.tenancy import for_user

register = template.Library()


@register.inclusion_tag("commercial/_recommendation_card.html", takes_context=True)
def po_recommendation(context, po):
    """The PO's recommended service with its reasons, for the buyer and the agency's staff."""
    from qcloop.commercial import selectors, services
    from qcloop.commercial.models import Quote

    user = context["request"].user
    if not selectors.sees_commercial(user, po):
        return {"visible": False}
    latest = for_user(Quote, user).filter(po=po).order_by("-number").first()
    return {
        "visible": True,
        "po": po,
        "recommendation": services.recommend_service(by=user, po=po),
        "latest": latest,
    }
