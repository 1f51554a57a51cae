from django import template

register = template.Library()


@register.inclusion_tag("scheduling/_schedule_panel.html", takes_context=True)
def po_schedule_panel(context, po):
    """The PO's projected schedule and any ship-date warning, read as the viewer."""
    from qcloop.scheduling import selectors, services

    user = context["request"].user
    projected = services.project_po(po)
    return {
        "po": po,
        "projected": projected,
        "placements": [projected.placements.get(k) for k in ("IPC", "DUPRO", "PSI", "CLI")],
        "warning": selectors.visible_warning(user, po),
        "compact": True,
        "may_report": services.may_report_progress(user, po),
        "factory_today": services.factory_today(po),
    }
