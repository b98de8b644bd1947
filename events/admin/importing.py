"""Imports in the admin: CSV or XLSX, previewed, and written whole or not at all."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV, XLSX

MAX_LISTED_ERRORS = 20


class ImportingAdmin(ImportMixin):
    """For those with the model's import permission (events.import_<model>)."""

    import_formats = [CSV, XLSX]

    def has_import_permission(self, request):
        return request.user.has_perm(f"events.import_{self.opts.model_name}")

    def get_import_data_kwargs(self, **kwargs):
        # A row that turns invalid between preview and confirm rolls the whole import back.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        problems = [
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
