"""Relation fields in the admin's forms: a posted value that is no key is refused, not a crash.

"abc" or twenty digits posted for an event type, a platform or a tag reaches Django's
queries on the way: ValueError as the query is built, OverflowError as SQLite runs it. The
value is checked against the key it stands for first, its column's range included.
"""

from django import forms
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.http import Http404


def field_can_hold(field, value):
    """Return whether value can be stored in the model field (its column's range included)."""
    try:
        field.run_validators(field.to_python(value))  # the validators hold the column's range
    except ValidationError:
        return False
    return True


class KeysOnlyModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuse a posted value that is no key before Django looks it up with key__in=[...]."""

    def clean(self, value):
        opts = self.queryset.model._meta
        key = opts.get_field(self.to_field_name) if self.to_field_name else opts.pk
        for item in value if isinstance(value, list | tuple) else ():
            if not field_can_hold(key, item):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                )
        return super().clean(value)


class KeysOnlyAutocompleteMixin:
    """Show again only the posted values that can be keys; the field reports the others.

    Showing a refused form again, Django's autocomplete looks up the label of every posted
    value with key__in=[...].
    """

    def optgroups(self, name, value, attr=None):
        remote_opts = self.field.remote_field.model._meta
        key = remote_opts.get_field(
            getattr(self.field.remote_field, "field_name", None) or remote_opts.pk.name
        )
        keys = [item for item in value if field_can_hold(key, item)]
        return super().optgroups(name, keys, attr)


class KeysOnlyAutocompleteSelect(KeysOnlyAutocompleteMixin, AutocompleteSelect):
    pass


class KeysOnlyAutocompleteSelectMultiple(KeysOnlyAutocompleteMixin, AutocompleteSelectMultiple):
    pass


class KeysOnlyAdmin:
    """For a ModelAdmin or an inline: its relation fields refuse values that are no keys."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KeysOnlyAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KeysOnlyAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        kwargs.setdefault("form_class", KeysOnlyModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def read_pk(model, text):
    """Return the primary key a URL names; raise Http404 if it cannot be one."""
    try:
        return model._meta.pk.to_python(unquote(text))
    except ValidationError:
        raise Http404 from None


class HistoryKeysAdmin:
    """History pages answer 404 to an id that cannot be a key: django-simple-history looks
    it up as it comes ("abc" is a ValueError, a 500)."""

    def history_view(self, request, object_id, extra_context=None):
        read_pk(self.model, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        read_pk(self.model, object_id)
        read_pk(self.model.history.model, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)
