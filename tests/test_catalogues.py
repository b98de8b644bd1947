"""Translation catalogues: each compiled .mo, committed beside its .po, says what the .po says.

A newcomer's machine may have Python and no GNU gettext, so the .mo files are committed, and
nothing rebuilds them on the way to a server: a .po edited without recompiling would change
nothing a reader sees. These tests read the .po with Babel and the .mo as Django does (Python's
gettext), so they run without GNU gettext too.
"""

import ast
import gettext
import os
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
NOT_OURS = {".venv", "node_modules", ".git"}
SOURCES = ("config", "events", "timeline")  # where makemessages finds our strings
TRANSLATING = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}


def files(suffix, under=ROOT):
    found = []
    for folder, subfolders, names in os.walk(under):
        subfolders[:] = sorted(name for name in subfolders if name not in NOT_OURS)
        found += [Path(folder) / name for name in sorted(names) if name.endswith(suffix)]
    return found


CATALOGUES = files(".po")


def name(path):
    return str(path.relative_to(ROOT))


def how_to_recompile(po):
    mo = po.with_suffix(".mo")
    return (
        f"Recompile it and commit the .mo: `python manage.py compilemessages` (it needs GNU "
        f"gettext's msgfmt), or with Python alone, `pybabel compile -i {name(po)} -o "
        f"{name(mo)}` (Babel, in requirements-dev.txt)."
    )


def translations(po):
    """Return what a compiled catalogue holds for the .po: {msgid: text}, as gettext keys it
    (a context before \\x04; a plural form as (msgid, n))."""
    with po.open("rb") as file:
        catalogue = read_po(file)
    held = {}
    for message in catalogue:
        if not message.id:
            continue  # the header
        singular = message.id[0] if message.pluralizable else message.id
        key = f"{message.context}\x04{singular}" if message.context else singular
        if message.pluralizable:
            held |= {(key, n): text for n, text in enumerate(message.string)}
        else:
            held[key] = message.string
    return held


def compiled(mo):
    with mo.open("rb") as file:
        held = dict(gettext.GNUTranslations(file)._catalog)
    held.pop("", None)  # the header
    return held


@pytest.mark.parametrize("po", CATALOGUES, ids=name)
def test_each_catalogue_is_compiled_beside_it(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{name(po)} has no {mo.name} beside it. {how_to_recompile(po)}"

    expected, actual = translations(po), compiled(mo)

    differ = sorted(
        str(key) for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key)
    )
    assert not differ, (
        f"{name(mo)} does not hold what {name(po)} says, for {len(differ)} entries, such as "
        f"{differ[:5]}. {how_to_recompile(po)}"
    )


@pytest.mark.parametrize("po", CATALOGUES, ids=name)
def test_no_translation_is_fuzzy_or_missing(po):
    with po.open("rb") as file:
        catalogue = read_po(file)
    fuzzy, missing = [], []
    for message in catalogue:
        if not message.id:
            continue
        texts = message.string if message.pluralizable else (message.string,)
        if message.fuzzy:
            fuzzy.append(message.id)
        if not all(texts):
            missing.append(message.id)

    # msgfmt leaves fuzzy entries out: a reader would see the English.
    assert not fuzzy, f"{name(po)}: check these and remove their fuzzy flag: {fuzzy}"
    assert not missing, f"{name(po)}: translate these: {missing}"


def escaped_translatable_strings(path):
    """Yield (line, source) of each string given to gettext with a \\u, \\U or \\N escape."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    source = path.read_text(encoding="utf-8")
    for node in sorted(ast.walk(tree), key=lambda node: getattr(node, "lineno", 0)):
        if not isinstance(node, ast.Call):
            continue
        function = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if function not in TRANSLATING:
            continue
        for argument in node.args:
            written = ast.get_source_segment(source, argument) or ""
            if isinstance(argument, ast.Constant) and any(
                escape in written for escape in ("\\u", "\\U", "\\N")
            ):
                yield argument.lineno, written


def test_translatable_strings_are_written_as_xgettext_reads_them():
    # xgettext (0.21, as Debian has it) reads "\u201c" in a Python string as a backslash and
    # "u201c", not as “: the catalogue's msgid would never match the string the code looks
    # up, and the page would stay in English. Write the character itself.
    escaped = [
        f"{name(path)}:{line}: {written}"
        for folder in SOURCES
        for path in files(".py", ROOT / folder)
        for line, written in escaped_translatable_strings(path)
    ]

    assert not escaped, "Write these characters as themselves, not as escapes:\n" + "\n".join(
        escaped
    )
