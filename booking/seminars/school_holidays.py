"""The Hessian school holidays, read from a CSV file the office can update without a new release.

The `holidays` package knows the public holidays; school holidays are set by the state's ministry a few years
ahead, so they are data: `booking/seminars/data/school_holidays_he.csv` ships with the official periods, and
`BOOKING_SCHOOL_HOLIDAYS_FILE` points at the office's own copy (default: `instance/school_holidays_he.csv` when it
exists, else the shipped file). The file is read again whenever it changes on disk, so an update needs no restart.

The format, one period a line, first and last day both inclusive::

    # a note
    first_day,last_day,name
    2027-03-22,2027-04-02,Osterferien

Dates may also be written 22.03.2027 (as a German spreadsheet saves them), and `;` may separate the columns.
Lines starting with `#` are notes. The four names the ministry uses (Weihnachtsferien, Osterferien, Sommerferien,
Herbstferien, and Winterferien, Pfingstferien for completeness) are shown in the page's language; any other name is
shown as written. A line that cannot be read is left out and named in `SchoolHolidayList.problems`, which the
editor shows the coordinator; the other lines still count.
"""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

SHIPPED_FILE = Path(__file__).parent / "data" / "school_holidays_he.csv"
INSTANCE_FILE_NAME = "school_holidays_he.csv"
COLUMNS = ("first_day", "last_day", "name")

# The ministry's names, as the file writes them, in the page's language.
KNOWN_NAMES = {
    "weihnachtsferien": _l("Christmas holidays"),
    "osterferien": _l("Easter holidays"),
    "sommerferien": _l("Summer holidays"),
    "herbstferien": _l("Autumn holidays"),
    "winterferien": _l("Winter holidays"),
    "pfingstferien": _l("Whitsun holidays"),
}


@dataclass(frozen=True)
class SchoolHoliday:
    first_day: date
    last_day: date
    name: str  # as written in the file

    @property
    def display_name(self):
        """The name in the page's language when it is one of the ministry's, else as written."""
        return KNOWN_NAMES.get(self.name.strip().casefold(), self.name)

    def touches(self, first: date, last: date) -> bool:
        return self.first_day <= last and first <= self.last_day


@dataclass
class SchoolHolidayList:
    path: Path
    periods: list[SchoolHoliday] = field(default_factory=list)
    problems: list = field(default_factory=list)  # user-facing messages, one per line left out

    @property
    def covered_until(self) -> date | None:
        """The last day the list knows about: a session after it cannot be checked."""
        return max((p.last_day for p in self.periods), default=None)

    def on(self, first: date, last: date) -> list[SchoolHoliday]:
        return [p for p in self.periods if p.touches(first, last)]


class _LineProblem(ValueError):
    pass


def _parse_day(text: str) -> date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise _LineProblem(_l("“%(text)s” is not a date (write it as 2027-03-22 or 22.03.2027).", text=text[:40]))


def parse(text: str, path: Path) -> SchoolHolidayList:
    """Read the file's text; lines that cannot be read are left out and named in `problems`."""
    result = SchoolHolidayList(path)
    lines = [(number, line) for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return result
    header_number, header = lines[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = [cell.strip().casefold() for cell in next(csv.reader([header], delimiter=delimiter))]
    if any(column not in names for column in COLUMNS):
        result.problems.append(_l("Line %(line)d: the first line must name the columns first_day, last_day, name.",
                                  line=header_number))
        return result
    positions = {column: names.index(column) for column in COLUMNS}
    for number, line in lines[1:]:
        cells = next(csv.reader(io.StringIO(line), delimiter=delimiter), [])
        try:
            if len(cells) <= max(positions.values()):
                raise _LineProblem(_l("three columns are needed: first day, last day, name."))
            first_day = _parse_day(cells[positions["first_day"]])
            last_day = _parse_day(cells[positions["last_day"]])
            name = cells[positions["name"]].strip()
            if last_day < first_day:
                raise _LineProblem(_l("the last day is before the first."))
            if not name:
                raise _LineProblem(_l("the name is missing."))
        except _LineProblem as problem:
            result.problems.append(_l("Line %(line)d: %(problem)s", line=number, problem=problem.args[0]))
            continue
        result.periods.append(SchoolHoliday(first_day, last_day, name[:80]))
    result.periods.sort(key=lambda p: (p.first_day, p.last_day))
    return result


def holidays_file() -> Path:
    configured = current_app.config.get("BOOKING_SCHOOL_HOLIDAYS_FILE")
    if configured:
        return Path(configured)
    office_copy = Path(current_app.instance_path) / INSTANCE_FILE_NAME
    return office_copy if office_copy.is_file() else SHIPPED_FILE


_cache: dict[tuple[str, int, int], SchoolHolidayList] = {}


def school_holidays() -> SchoolHolidayList:
    """The periods of the configured file, read again when the file changes on disk."""
    path = holidays_file()
    try:
        stat = path.stat()
    except OSError as error:
        log.error("school holiday file %s cannot be read: %s", path, error)
        return SchoolHolidayList(path, problems=[_l("The school holiday file %(path)s cannot be read.",
                                                    path=str(path))])
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        loaded = parse(path.read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        log.error("school holiday file %s cannot be read: %s", path, error)
        return SchoolHolidayList(path, problems=[_l("The school holiday file %(path)s cannot be read.",
                                                    path=str(path))])
    for problem in loaded.problems:
        log.warning("school holiday file %s: %s", path, problem)
    _cache.clear()  # one file in use at a time: keep only its latest version
    _cache[key] = loaded
    return loaded
