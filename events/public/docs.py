"""The researchers' guide's tables of an event's fields, written from the registry.

docs/researchers.md holds each table between markers; `manage.py document_fields` rewrites
them and a test fails when they differ from the registry.
"""

import re

from .fields import CSV_FIELDS, JSON_FIELDS, Kind, Origin

CELL_FORMATS = {
    Kind.TEXT: "text",
    Kind.CODE: "text (a code)",
    Kind.DAY: "YYYY-MM-DD",
    Kind.MOMENT: "UTC, 2014-05-28T09:00:00.000000Z",
    Kind.BOOLEAN: "true / false",
    Kind.DECIMAL: "decimal, 5 places",
    Kind.INTEGER: "whole number",
    Kind.LIST: "items joined by '; '",
}
JSON_TYPES = {
    Kind.TEXT: "string",
    Kind.CODE: "string (a code)",
    Kind.DAY: "string (date)",
    Kind.MOMENT: "string (UTC moment)",
    Kind.BOOLEAN: "boolean",
    Kind.DECIMAL: "string (decimal)",
    Kind.INTEGER: "integer",
    Kind.LIST: "list of objects",
}


def _escape(text):
    return text.replace("|", "\\|")


def _import(public_field):
    if public_field.importer is None:
        return "read-only"
    if public_field.importer.on_publish:
        return "read for new events imported as published"
    return "required" if public_field.importer.required else "read"


def csv_column_table():
    """Return the CSV columns as a Markdown table, in the registry's (and the file's) order."""
    lines = [
        "| Column | Meaning | Cell | Formula-safe `'` | Import |",
        "|---|---|---|---|---|",
    ]
    for f in CSV_FIELDS:
        cell = CELL_FORMATS[f.kind] + (", or empty" if f.nullable else "")
        neutralised = "yes" if f.neutralised else "no"
        lines.append(
            f"| `{f.name}` | {_escape(f.description)} | {cell} | {neutralised} | {_import(f)} |"
        )
    return "\n".join(lines)


def json_field_table():
    """Return the JSON object's fields as a Markdown table, in the registry's order."""
    lines = ["| Field | Meaning | Type |", "|---|---|---|"]
    for f in JSON_FIELDS:
        kind = JSON_TYPES[f.kind] + (" or null" if f.nullable else "")
        where = ".".join(f.json_path)
        origin = " (derived)" if f.origin == Origin.DERIVED else ""
        lines.append(f"| `{where}` | {_escape(f.description)}{origin} | {kind} |")
    return "\n".join(lines)


TABLES = {"csv-columns": csv_column_table, "json-fields": json_field_table}
BLOCK = re.compile(r"(<!-- registry:(?P<name>[a-z-]+) -->)(.*?)(<!-- /registry -->)", re.S)


def rewrite(text):
    """Return a document with every registry table block rewritten from the registry."""
    return BLOCK.sub(lambda m: f"{m[1]}\n{TABLES[m['name']]()}\n{m[4]}", text)


def blocks(text):
    """Return {table name: its text} for the registry blocks in a document."""
    return {match["name"]: match[3].strip("\n") for match in BLOCK.finditer(text)}
