"""Requests the admin refuses with a 4xx: a page in the admin's frame that says why."""

from django.template.response import TemplateResponse


def refusal(model_admin, request, *, title, message, back, status):
    """Return a page saying why the request was refused, with one link (url, label) onward."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "message": message,
        "back_url": back[0],
        "back_label": back[1],
    }
    return TemplateResponse(request, "admin/events/refusal.html", context, status=status)
