"""Imports in the admin: CSV or XLSX, previewed, and written whole or not at all.

A resource that can describe its columns (EventResource: import_columns, template_dataset)
gets a table of them on the import page, built from the registry, and a template to
download as CSV or XLSX with one example row.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX

MAX_LISTED_ERRORS = 20
TEMPLATE_FORMATS = {"csv": CSV, "xlsx": XLSX}


class ImportingAdmin(ImportMixin):
    """For those with the model's import permission (events.import_<model>)."""

    import_formats = [CSV, XLSX]
    import_template_name = "admin/events/import.html"

    def has_import_permission(self, request):
        return request.user.has_perm(f"events.import_{self.opts.model_name}")

    def get_urls(self):
        template = self.admin_site.admin_view(self.import_template_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_import_template"
        return [
            path("import/template.<str:extension>", template, name=name),
            *super().get_urls(),
        ]

    def _described_resource(self):
        """Return the resource class that lists its columns, or None."""
        resource_class = self.get_import_resource_classes(None)[0]
        return resource_class if hasattr(resource_class, "template_dataset") else None

    def import_template_view(self, request, extension):
        """Download the columns the import reads, with one example row."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        resource_class = self._described_resource()
        if resource_class is None or extension not in TEMPLATE_FORMATS:
            raise Http404
        file_format = TEMPLATE_FORMATS[extension]()
        response = HttpResponse(
            file_format.export_data(resource_class.template_dataset()),
            content_type=file_format.get_content_type(),
        )
        filename = f"{self.opts.model_name}-import-template.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def get_import_context_data(self, **kwargs):
        context = super().get_import_context_data(**kwargs)
        resource_class = self._described_resource()
        if resource_class is not None:
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template"
            context["import_columns"] = resource_class.import_columns()
            context["import_templates"] = [
                (extension, reverse(name, args=[extension])) for extension in TEMPLATE_FORMATS
            ]
        return context

    def get_import_resource_kwargs(self, request, **kwargs):
        resource_kwargs = super().get_import_resource_kwargs(request, **kwargs)
        form = kwargs.get("form")
        new_names = getattr(form, "cleaned_data", {}).get("new_names")
        if new_names is not None:  # the confirm form: the names the editor ticked as new
            resource_kwargs = {**resource_kwargs, "new_names": new_names}
        return resource_kwargs

    def get_import_data_kwargs(self, **kwargs):
        # A row that turns invalid between preview and confirm rolls the whole import back.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        # Errors of no one row: a batch of new events the database refused when written.
        problems = [str(error.error) for error in result.base_errors]
        problems += [
            _row_problem(error.number, error.error)
            for _rows, errors in result.row_errors()
            for error in errors
        ]
        problems += [
            _row_problem(
                row.number,
                "; ".join(f"{field}: {' '.join(texts)}" for field, texts in row.error_dict.items()),
            )
            for row in result.invalid_rows
        ]
        listed = "; ".join(problems[:MAX_LISTED_ERRORS])
        self.message_user(
            request,
            gettext("Nothing was imported: %(count)s row(s) have errors. %(problems)s")
            % {"count": len(problems), "problems": listed},
            messages.ERROR,
        )
        return HttpResponseRedirect(reverse(f"admin:events_{self.opts.model_name}_import"))


def _row_problem(number, problem):
    return gettext("row %(number)s: %(problem)s") % {"number": number, "problem": problem}
