"""Admin forms read back from a GET and posted as a browser would post them."""

from django import forms


def posted_value(bound_field):
    """Return what a browser would post for a field left as rendered."""
    value = bound_field.value()
    if isinstance(bound_field.field, forms.BooleanField):
        return {bound_field.html_name: "on"} if value else {}
    if isinstance(bound_field.field, forms.ModelMultipleChoiceField):
        return {bound_field.html_name: [str(item) for item in value or ()]}
    if value is None:
        return {bound_field.html_name: ""}
    if isinstance(value, list | tuple):
        return {bound_field.html_name: [str(item) for item in value]}
    return {bound_field.html_name: str(value)}


def form_data(response):
    """Return the POST data of a rendered admin form, leaving out its blank extra inline rows."""
    rendered_forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context.get("inline_admin_formsets", []):  # none on a history page
        formset = inline.formset
        for bound_field in formset.management_form:
            data.update(posted_value(bound_field))
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(len(formset.initial_forms))
        rendered_forms.extend(formset.initial_forms)
    for form in rendered_forms:
        for bound_field in form:
            data.update(posted_value(bound_field))
    return data


def add_inline_rows(data, prefix, *rows):
    """Append rows to an inline formset in POST data, as "Add another" would."""
    start = int(data[f"{prefix}-TOTAL_FORMS"])
    for index, row in enumerate(rows, start=start):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    data[f"{prefix}-TOTAL_FORMS"] = str(start + len(rows))
    return data


def sign_in(client, username, password):
    """Sign in through the admin's login form, as a curator does; return whether it worked.

    Client.login() would call authenticate() without the request, which the sign-in
    throttle (django-axes) needs to know who is trying.
    """
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return response.status_code == 302 and response.url == "/admin/"
