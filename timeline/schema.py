"""The OpenAPI schema says what the API answers: its errors and its streamed formats too.

drf-spectacular documents each operation's 200 from its serializer and renderers. Every
public view also answers errors (always JSON, always with a detail message) and the event
views stream the formats of timeline.exports.FORMATS, whose bodies are not the serializer's:
each entry describes its own. PublicAutoSchema adds both to each operation, so that clients
and schemathesis (bin/fuzz) hold the API to what it really does.
"""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from events.public.openapi import event_components

from . import exports
from .serializers import ErrorSerializer

ERRORS = {
    "400": "A query parameter is unknown, or its value is not accepted: errors names each "
    "parameter and what it accepts.",
    "404": "Nothing public has this id or slug.",
    "406": "The Accept header (or format=) names no format this endpoint writes.",
    "429": "Too many requests from this address: wait for Retry-After seconds.",
    "503": "The request took longer than the time limit (narrow the filters, or stream an "
    "export), or the database is unavailable for a moment (retry after Retry-After seconds).",
}
NOT_MODIFIED = "Unchanged since the ETag sent in If-None-Match; no body."
# Answered by gunicorn before the request reaches Django, so in its HTML, not JSON: a URL may
# hold many filter values, and no limit on each of them keeps every URL under the server's.
URI_TOO_LONG = {
    "description": "The URL is longer than the server reads (4 KB): ask for fewer values at a "
    "time. Sent by the HTTP server itself, as HTML.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
# An empty value (date_from=&q=) means the parameter was not given, as an HTML form sends it;
# these alone refuse one.
EMPTY_REFUSED = {"page_size", "count", "group_by"}
HEADERS = {
    "ETag": "Changes whenever anything public changes; send it back in If-None-Match.",
    "Link": 'The next and previous pages, as rel="next" and rel="prev".',
    exports.ROW_COUNT_HEADER: "Streamed formats: how many events the export holds. Fewer "
    "arrived means the download was cut off; fetch it again.",
    "Content-Disposition": "Streamed formats: attachment, with a file name that says what was "
    "filtered and when.",
    "Retry-After": "Seconds to wait before asking again.",
}
FORMAT_DESCRIPTION = (
    "json (default): pages of JSON. "
    + ", ".join(exports.FORMATS)
    + ": the whole filtered set, streamed (also chosen by an Accept header naming "
    + " or ".join(fmt.media_type for fmt in exports.FORMATS.values())
    + "). A format sent under another media type (TimelineJS as application/json, so that "
    "TimelineJS and browsers read it as they are) is sent under its own when Accept names it."
)


class EventDocumentExtension(OpenApiSerializerExtension):
    """The Event component, from the registry of public fields (events.public.openapi)."""

    target_class = "timeline.serializers.EventDocumentSchema"

    def get_name(self, auto_schema, direction):
        return "Event"

    def map_serializer(self, auto_schema, direction):
        components = event_components()
        event = components.pop("Event")
        for name, schema in components.items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
                )
            )
        return event


class PublicAutoSchema(AutoSchema):
    """drf-spectacular's operations, with the errors and streamed formats the views answer."""

    def get_filter_backends(self):
        # The stats are one object, not a list, yet every events filter applies to them.
        if getattr(self.view, "filterset_class", None) and not hasattr(self.view, "action"):
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if "200" in operation["responses"]:
            self._describe_ok(operation["responses"]["200"])
        self._describe_parameters(operation.get("parameters", []))
        operation["responses"] |= self._errors(has_lookup="{" in path)
        return operation

    def _describe_parameters(self, parameters):
        for parameter in parameters:
            if parameter["in"] == "path" and hasattr(self.view, "lookup_example"):
                parameter["example"] = self.view.lookup_example
            if parameter["in"] != "query":
                continue
            if parameter["name"] == "format":
                parameter["description"] = FORMAT_DESCRIPTION
            if parameter["name"] not in EMPTY_REFUSED:
                parameter["allowEmptyValue"] = True
        # Required parameters first (the stats' group_by before its many optional filters).
        parameters.sort(key=lambda parameter: not parameter.get("required"))

    def _streamed_formats(self):
        return [
            renderer.export_format
            for renderer in self.view.renderer_classes
            if getattr(renderer, "streamed", False)
        ]

    def _describe_ok(self, ok):
        content = ok.get("content", {})
        for export_format in self._streamed_formats():
            schema = self._body_schema(export_format)
            content[export_format.media_type] = {"schema": schema, "x-rows": export_format.rows}
            if export_format.content_type:  # also sent as this: either body may come
                sent = content.setdefault(export_format.content_type, {"schema": {}})
                sent["schema"] = {"oneOf": [sent["schema"], schema]}
                # Only exports carry X-Row-Count: a body of this type that does is the export.
                sent["x-rows"] = export_format.rows
        names = ["ETag"]
        if self._is_list_view():
            names.append("Link")
        if self._streamed_formats():
            names += [exports.ROW_COUNT_HEADER, "Content-Disposition"]
        ok["headers"] = {name: _header(name) for name in names}

    def _body_schema(self, export_format):
        if export_format.schema is None:
            return {"type": "string", "description": export_format.description}
        return export_format.schema(self._ref)

    def _ref(self, serializer):
        return self.resolve_serializer(serializer, "response").ref

    def _errors(self, has_lookup):
        error_schema = self.resolve_serializer(ErrorSerializer, "response").ref
        error = {"application/json": {"schema": error_schema}}
        responses = {"304": {"description": NOT_MODIFIED}}
        for status, description in ERRORS.items():
            if status == "404" and not has_lookup:
                continue
            responses[status] = {"description": description, "content": error}
            if status in ("429", "503"):
                responses[status]["headers"] = {"Retry-After": _header("Retry-After", "integer")}
        return responses | {"414": URI_TOO_LONG}


def _header(name, kind="string"):
    return {"description": HEADERS[name], "schema": {"type": kind}}
