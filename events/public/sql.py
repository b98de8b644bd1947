"""The few SQL spellings that differ between PostgreSQL and SQLite, for the public read path.

Everything an event shows is written by the database itself, as JSON text and as CSV cells,
from the expressions in events.public.fields. Those expressions are portable SQL except for
what this module spells per database: quoting a JSON string, joining a group of texts, and
writing a day, a moment or a decimal as text.
"""

from dataclasses import dataclass

from ..formats import FORMULA_STARTS


def literal(text):
    """Return a text as an SQL string literal (for fixed vocabulary, never for user input)."""
    # % is doubled: every statement built here runs with parameters, where % starts one.
    return "'" + str(text).replace("'", "''").replace("%", "%%") + "'"


@dataclass(frozen=True)
class Dialect:
    """How one database writes JSON and CSV text; see PostgreSQL and SQLite below."""

    vendor: str
    first_code: str  # the function giving the first code point of a text: ascii or unicode

    def json_string(self, expression):
        """Return SQL for a JSON string literal of a text, or null."""
        raise NotImplementedError

    def join(self, expression, separator):
        """Return SQL for an aggregate that joins the group's texts in their input order."""
        raise NotImplementedError

    def day(self, expression):
        """Return SQL writing a date as YYYY-MM-DD."""
        raise NotImplementedError

    def moment_json(self, expression):
        """Return SQL writing a moment in UTC as the JSON API does: 2014-05-28T09:00:00Z, with
        microseconds only when there are some."""
        raise NotImplementedError

    def moment_cell(self, expression):
        """Return SQL writing a moment in UTC as CSV cells do: 2014-05-28T09:00:00.000000Z."""
        raise NotImplementedError

    def decimal(self, expression):
        """Return SQL writing a coordinate with its five decimals: 31.23000."""
        raise NotImplementedError

    def json_lookup(self, placeholder, key):
        """Return SQL reading a key's text from a JSON object passed as a parameter."""
        raise NotImplementedError

    def integer(self, expression):
        return f"CAST({expression} AS TEXT)"

    def boolean(self, expression):
        return f"CASE WHEN {expression} THEN 'true' ELSE 'false' END"

    def neutral(self, expression):
        """Return SQL that prefixes a text a spreadsheet would run as a formula with '.

        The first character is compared by its code point: no substring is built per cell.
        """
        codes = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
        return (
            f"CASE WHEN {self.first_code}({expression}) IN ({codes}) "
            f"THEN '''' || {expression} ELSE {expression} END"
        )


class PostgreSQL(Dialect):
    def json_string(self, expression):
        return f"COALESCE(to_json(({expression})::text)::text, 'null')"

    def join(self, expression, separator):
        return f"string_agg({expression}, {literal(separator)})"

    def day(self, expression):
        return f"to_char({expression}, 'YYYY-MM-DD')"

    def moment_json(self, expression):
        utc = f"({expression} AT TIME ZONE 'UTC')"
        return (
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
            f"to_char({utc}, 'US') = '000000' THEN '' ELSE to_char({utc}, '.US') END || 'Z'"
        )

    def moment_cell(self, expression):
        return f"to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

    def decimal(self, expression):
        return f"({expression})::text"

    def json_lookup(self, placeholder, key):
        return f"({placeholder} ->> {key})"


class SQLite(Dialect):
    # Django keeps a moment as UTC text, 'YYYY-MM-DD HH:MM:SS' with '.ffffff' when it has any.
    def json_string(self, expression):
        return f"json_quote({expression})"

    def join(self, expression, separator):
        return f"group_concat({expression}, {literal(separator)})"

    def day(self, expression):
        return f"({expression})"

    def moment_json(self, expression):
        return f"(replace({expression}, ' ', 'T') || 'Z')"

    def moment_cell(self, expression):
        return (
            f"(substr({expression}, 1, 10) || 'T' || substr({expression}, 12, 8) || '.' || "
            f"CASE WHEN length({expression}) > 19 THEN substr({expression}, 21, 6) "
            f"ELSE '000000' END || 'Z')"
        )

    def decimal(self, expression):
        return f"CASE WHEN {expression} IS NULL THEN NULL ELSE printf('%%.5f', {expression}) END"

    def json_lookup(self, placeholder, key):
        return f"json_extract({placeholder}, '$.' || {key})"


DIALECTS = {
    # PostgreSQL's ascii() is the code point of the first character in a UTF-8 database.
    "postgresql": PostgreSQL("postgresql", "ascii"),
    "sqlite": SQLite("sqlite", "unicode"),
}


def dialect_for(connection):
    try:
        return DIALECTS[connection.vendor]
    except KeyError:
        raise NotImplementedError(
            f"The public read path speaks PostgreSQL and SQLite, not {connection.vendor}."
        ) from None
