"""CSV exports carry no formula a spreadsheet would run, and nothing the CLI prints can steer the terminal.

The values are written straight into the database, as data stored before input checks existed
(or let through by a future form) would be: the protection must hold for whatever is stored.
"""
from __future__ import annotations

import csv
import io
import re

import pytest

from booking.associations import services as associations
from booking.associations.services import ContactDetails
from booking.extensions import db
from booking.mail.models import OutboxMessage
from booking.textsafety import neutralise_formula, printable, printable_lines, spreadsheet_cell

from tests.factories import make_applicant, make_association, make_registration, make_seminar

FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://x\")"]
TERMINAL = ["\x1b[31mred\x1b[0m", "over\rwritten", "bell\x07", "csi\x9b2J", "title\x1b]0;pwned\x07",
            "rtl\u202eesrever", "soh\x01", "del\x7f", "line\u2028sep"]
# anything that acts on a terminal; "\n" only between lines
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile(app):
    """A seminar whose registrations carry formulas and control sequences in every text a person typed."""
    with app.app_context():
        seminar = make_seminar(slug="vereinsrecht", title="Recht\x1b[2J\x1b[H", venue_name="Haus\r\x1b[1A")
        texts = FORMULAS + TERMINAL
        for index, text in enumerate(texts):
            registration = make_registration(seminar, make_association(f"Verein {index}"))
            registration.first_name, registration.last_name = text, text
            registration.needs = text
            registration.association.name = texts[-1 - index]
        rows = associations.register_group(
            seminar, ContactDetails(first_name="Aylin", last_name="Kaya", email="vorstand@verein.example",
                                    phone=None, preferred_language="de"),
            [make_applicant(first_name="Emre", email=None)], make_association("Kulturverein"))
        rows[0].registered_by.first_name = "=1+2"
        rows[0].registered_by.last_name = "\x1b[5m"
        message = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).first()
        message.subject = "=subject\x1b[31m"
        message.body_text = "Hello \x1b[31mLeyla\x1b[0m,\r\nline two\rover\n\x9b2J"
        message.calendar = "BEGIN:VCALENDAR\r\nSUMMARY:\x1b]0;pwned\x07\r\nEND:VCALENDAR\r\n"
        message.last_error = "550 \x1b[2J mailbox\r\nunavailable"
        message.skip_reason = "skip\x07"
        db.session.commit()
        return {"message_id": message.id, "texts": texts}


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=["booking", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_csv_export_neutralises_formulas_in_every_cell(app, hostile):
    output = cli(app, "registrations", "vereinsrecht", "--csv")

    # the export for German Excel (booking.registrations.exports): BOM, ';' between cells
    assert output.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(output.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert rows[0][3:5] == ["First name", "Last name"]
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        assert not cell.startswith(TRIGGERS), cell
        assert not CONTROL.search(cell), cell
    names = [f"{row[3]} {row[4]}" for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0 '=cmd|' /C calc'!A0" in names
    assert "'+1 '+1" in names and "'-2 '-2" in names and "'@SUM(1) '@SUM(1)" in names
    # what a control character was stays visible, in the name and the association
    assert "\\x1b[31mred\\x1b[0m \\x1b[31mred\\x1b[0m" in names
    assert "'=cmd|' /C calc'!A0" in [row[5] for row in rows[1:]]
    assert "'=1+2 \\x1b[5m" in [row[11] for row in rows[1:]]


def test_registrations_table_prints_no_control_character(app, hostile):
    output = cli(app, "registrations", "vereinsrecht")

    assert not CONTROL.search(output), repr(output)
    assert "\\x1b[31mred" in output and "over\\x0dwritten" in output and "csi\\x9b2J" in output
    assert "rtl\\u202eesrever" in output and "=cmd|' /C calc'!A0" in output
    assert len(output.splitlines()) == len(hostile["texts"]) + 1  # one line per registration


def test_sessions_and_outbox_print_no_control_character(app, hostile):
    outputs = [cli(app, "sessions"), cli(app, "sessions", "vereinsrecht"), cli(app, "outbox"),
               cli(app, "outbox", "--status", "pending"), cli(app, "outbox", "--show", str(hostile["message_id"]))]

    for output in outputs:
        assert not CONTROL.search(output), repr(output)
    sessions, _, listing, _, shown = outputs
    assert "Recht\\x1b[2J\\x1b[H" in sessions and "Haus\\x0d\\x1b[1A" in sessions
    assert "last error: 550 \\x1b[2J mailbox\\x0d\\x0aunavailable" in listing
    # a multi-line body keeps its lines; a stray CR inside a line stays visible
    assert "Hello \\x1b[31mLeyla\\x1b[0m,\nline two\\x0dover\n\\x9b2J" in shown
    assert "SUMMARY:\\x1b]0;pwned\\x07\n" in shown
    assert "subject: =subject\\x1b[31m" in shown and "skipped: skip\\x07" in shown


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_becomes_text(text):
    assert neutralise_formula(text) == "'" + text
    assert spreadsheet_cell(text).startswith("'")


@pytest.mark.parametrize("text", ["Leyla", "Ayşe-Nur O'Brien", "مريم حداد", "Zürich 1", "", "1", "a=b", " =x"])
def test_ordinary_text_is_left_as_it_is(text):
    assert neutralise_formula(text) == text == spreadsheet_cell(text) == printable(text)


def test_every_control_character_is_shown_not_sent():
    controls = "".join(map(chr, [*range(0x20), *range(0x7f, 0xa0), *range(0x202a, 0x202f), *range(0x2066, 0x206a)]))
    assert not CONTROL.search(printable(controls))
    assert not CONTROL.search(printable_lines(controls).replace("\n", ""))
    assert printable(None) == "" and printable(3) == "3"
    # joiners and direction marks are part of ordinary writing in several scripts
    assert printable("می\u200cخواهم \u200f") == "می\u200cخواهم \u200f"
