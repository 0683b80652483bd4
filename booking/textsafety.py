"""Making text typed by anyone safe to hand to a spreadsheet or to a coordinator's terminal.

Names, associations and needs come from public forms. Two places would act on them instead of
showing them:
- a spreadsheet opening an exported CSV may run a cell that starts with `=`, `+`, `-`, `@`, a tab or
  a CR as a formula (OWASP "CSV injection"): such a cell gets a leading `'`, which spreadsheets
  take as "this is text";
- a terminal obeys control characters: ESC and CSI sequences recolour, move the cursor, rewrite the
  window title or earlier lines; CR overwrites the line; bidi overrides reorder what is shown. In
  everything the CLI prints, these are shown as visible escapes (`\\x1b`, `\\u202e`) instead.

Every CSV writer and every CLI table goes through this module.
"""
from __future__ import annotations

import csv
import re
from typing import IO, Iterable, Mapping, Sequence

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# C0 controls, DEL, C1 controls (incl. the single-byte CSI \x9b), the bidi embeddings, overrides
# and isolates that reorder a line, and the Unicode line and paragraph separators. Joiners (ZWJ,
# ZWNJ) and the LRM/RLM marks belong to ordinary writing in several scripts and reorder nothing
# else, so they stay.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_LINE_BREAK = re.compile(r"\r?\n")


def _visible(match: re.Match) -> str:
    char = match.group()
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def printable(value) -> str:
    """One line for a terminal: every control character shown as an escape (None becomes '')."""
    return _CONTROL.sub(_visible, "" if value is None else str(value))


def printable_lines(value) -> str:
    """A multi-line text (an email body, a calendar) for a terminal: line breaks kept, every other
    control character, CR included, shown as an escape."""
    return "\n".join(printable(line) for line in _LINE_BREAK.split("" if value is None else str(value)))


def neutralise_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula, made text with a leading quote."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def spreadsheet_cell(value) -> str:
    """An exported cell: no formula, and (as the CSV is often printed to a terminal) no control character."""
    return printable(neutralise_formula("" if value is None else str(value)))


def write_csv(stream: IO[str], columns: Sequence[str], rows: Iterable[Mapping]) -> None:
    """Write rows as CSV with a header, every cell through spreadsheet_cell."""
    writer = csv.writer(stream)
    writer.writerow([spreadsheet_cell(column) for column in columns])
    for row in rows:
        writer.writerow([spreadsheet_cell(row.get(column)) for column in columns])
