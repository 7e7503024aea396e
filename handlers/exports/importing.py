"""`minga ideas import`: ideas a lab collected before Minga (paper forms, spreadsheets, contest
submissions), from a CSV or XLSX file with the columns `minga export ideas` writes.

Reading and checking are pure (`read_rows`, `check_row`); `plan_import` asks the database what
is already there; `write_import` stores the plan in the caller's transaction. Nothing here sends
anything: imported ideas belong to a placeholder author nobody can reach (storage/idea_import)."""

import csv
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from handlers.engine.settings import LabSettings
from handlers.engine.textinput import fold
from handlers.exports.columns import COLUMNS, CONTACT_COLUMNS, FORMULA_STARTS
from storage.idea_import import ImportedIdea
from storage.ideas import format_reference
from storage.models import Award, Focus, IdeaStatus, Publish, Role
from storage.repositories import Repositories

SUFFIXES = (".csv", ".xlsx")
MAX_TEXT = 3500  # the longest text the intake can be set to accept
BATCH = 5000  # rows written per statement batch (progress moves between them)
# Other names a lab's own spreadsheet may use for a column -> the export's name.
ALIASES = {
    "problema": "problem",
    "categoria": "category",
    "categoría": "category",
    "barrio": "place",
    "lugar": "place",
    "latitud": "latitude",
    "longitud": "longitude",
    "neighbourhood": "place",
    "neighborhood": "place",
    "location": "place",
    "lat": "latitude",
    "lon": "longitude",
    "lng": "longitude",
}
# Export columns read for nothing: the importer decides them (supporters are people who joined
# in the chat, never a number a file brings).
IGNORED = frozenset(("channel", "category_label", "photos", "updated_at", "supporters"))
KNOWN = frozenset(c.name for c in COLUMNS + CONTACT_COLUMNS) | {"external_id"} | set(ALIASES)
YES = frozenset(("yes", "y", "true", "1", "si", "sí", "s", "x"))
NO = frozenset(("no", "n", "false", "0", ""))

Progress = Callable[[int], None]
S = TypeVar("S", bound=StrEnum)


class ImportFileError(Exception):
    """The file cannot be read as a table of ideas at all (one line, for the CLI)."""


@dataclass(frozen=True, slots=True)
class Row:
    """A row as read: its line (the header is line 1, as a spreadsheet numbers rows)."""

    line: int
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CheckedRow:
    line: int
    key: str  # what makes a second import of it add nothing (stored as external_id)
    given_reference: str | None
    duplicate_of: str | None  # the original's reference, as the file gives it
    idea: ImportedIdea  # with the given reference, or "" until one is numbered


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


@dataclass
class ImportPlan:
    rows: int = 0  # data rows read (empty rows aside)
    new: list[CheckedRow] = field(default_factory=list)
    already_there: int = 0
    bad: list[BadRow] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported_ids: list[int]  # the new ideas, in file order (what the matcher encodes)
    references: list[str]


# --- reading ---------------------------------------------------------------------------------


def read_rows(path: Path) -> tuple[tuple[str, ...], list[Row]]:
    """The header (lower-case, aliases resolved) and the non-empty rows of a CSV or XLSX."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportFileError(f"{path.name}: give a .csv or .xlsx file")
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    table = _csv_table(path) if suffix == ".csv" else _xlsx_table(path)
    try:
        header_cells = next(table)
    except StopIteration:
        raise ImportFileError(f"{path.name}: the file is empty") from None
    header = tuple(_column_name(cell) for cell in header_cells)
    for needed in ("problem", "category"):
        if needed not in header:
            raise ImportFileError(
                f"{path.name}: no {needed!r} column; the first row must name the columns, "
                "as `minga export ideas` writes them"
            )
    rows = []
    for line, cells in enumerate(table, start=2):
        if all(_blank(cell) for cell in cells):
            continue
        values: dict[str, Any] = {}
        for name, cell in zip(header, cells, strict=False):
            if name and not _blank(cell) and name not in values:
                values[name] = _undefused(cell) if suffix == ".csv" else cell
        rows.append(Row(line, values))
    return header, rows


def _column_name(cell: Any) -> str:
    name = "" if cell is None else str(cell).strip().lower().replace(" ", "_")
    return ALIASES.get(name, name)


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _undefused(cell: str) -> str:
    """The export writes a leading ' before text a spreadsheet would run as a formula."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def _csv_table(path: Path) -> Iterator[list[Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # Excel on Windows saves "CSV" in the system's code page
        text = raw.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    # Spreadsheets in Spanish save CSV with ";" (the comma is the decimal mark).
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return iter(csv.reader(text.splitlines(keepends=True), delimiter=delimiter))


def _xlsx_table(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
        raise ImportFileError(f"{path.name}: not a readable .xlsx file ({error})") from None
    sheet = workbook["ideas"] if "ideas" in workbook.sheetnames else workbook.worksheets[0]
    return (list(row) for row in sheet.iter_rows(values_only=True))


# --- checking one row ------------------------------------------------------------------------


class _Bad(Exception):
    pass


def check_row(row: Row, lab: LabSettings, now: datetime, calls: set[int]) -> CheckedRow | BadRow:
    """A row as an idea to store, or the reason it cannot be one."""
    try:
        return _checked(row, lab, now, calls)
    except _Bad as bad:
        return BadRow(row.line, str(bad))


def _checked(row: Row, lab: LabSettings, now: datetime, calls: set[int]) -> CheckedRow:
    v = row.values
    problem = _text(v.get("problem"))
    if not problem:
        raise _Bad("missing problem")
    category = _category(v.get("category"), v.get("category_label"), lab)
    status, duplicate_of = _status(v.get("status"), _text(v.get("duplicate_of")))
    latitude, longitude = _coordinates(v.get("latitude"), v.get("longitude"))
    created = _moment(v.get("created_at"), "created_at", lab) or now
    if created > now:
        raise _Bad(f"created_at {_shown(v.get('created_at'))} is in the future")
    updated = _moment(v.get("updated_at"), "updated_at", lab) or created
    call_id = _call(v.get("call_id"), calls)
    award = _award(v.get("award"), call_id)
    language = (_text(v.get("language")) or lab.default_language).lower()
    if language not in ("es", "en"):
        raise _Bad(f"unknown language {language!r} (use es or en)")
    reference = (_text(v.get("reference")) or "").upper() or None
    problem = _limited(problem, "problem") or problem
    place = _text(v.get("place"))
    content = (problem, _text(v.get("idea")) or "", category, place or "",
               _text(v.get("created_at")) or "")  # fmt: skip
    key = _text(v.get("external_id")) or reference or _digest(content)
    idea = ImportedIdea(
        external_id=key,
        reference=reference or "",
        role=_choice(v.get("role"), Role, "role") or Role.RESIDENT,
        language=language,
        problem=problem,
        idea=_limited(_text(v.get("idea")), "idea"),
        category=category,
        focus=_choice(v.get("focus"), Focus, "focus") or Focus.EXTERNAL,
        location_text=place,
        latitude=latitude,
        longitude=longitude,
        anonymous=_yes_no(v.get("anonymous"), "anonymous"),
        contact_name=_text(v.get("contact_name")),
        contact=_text(v.get("contact")),
        status=status,
        status_reason=_text(v.get("status_reason")),
        created_at=created,
        updated_at=max(updated, created),
        publish=_publish(v.get("publish")),
        call_id=call_id,
        call_category=_text(v.get("call_category")) if call_id is not None else None,
        award=award,
        photos=_photos(v.get("photo_paths")),
    )
    return CheckedRow(row.line, idea.external_id, reference, duplicate_of, idea)


def _status(value: Any, duplicate_of: str | None) -> tuple[IdeaStatus, str | None]:
    """The status, and the original's reference, which "duplicate" needs (and only it)."""
    status = _choice(value, IdeaStatus, "status") or IdeaStatus.RECEIVED
    if status is IdeaStatus.DUPLICATE and not duplicate_of:
        raise _Bad("status duplicate needs duplicate_of (the original's reference)")
    if duplicate_of and status is not IdeaStatus.DUPLICATE:
        raise _Bad(f"duplicate_of given but the status is {status.value}, not duplicate")
    return status, duplicate_of and duplicate_of.upper()


def _award(value: Any, call_id: int | None) -> Award | None:
    award = _choice(value, Award, "award")
    if award is not None and call_id is None:
        raise _Bad("an award needs the call_id of its call for ideas")
    return award


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's number cell: 12.0 means "12"
    text = str(value).strip()
    return text or None


def _shown(value: Any) -> str:
    return repr(_text(value) or "")


def _limited(text: str | None, name: str) -> str | None:
    if text is not None and len(text) > MAX_TEXT:
        raise _Bad(f"{name} is longer than {MAX_TEXT} characters")
    return text


def _choice(value: Any, kind: type[S], name: str) -> S | None:
    """One of an enumeration's stored values; None when the cell is empty."""
    text = (_text(value) or "").lower()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise _Bad(f"unknown {name} {text!r} (use one of: {allowed})") from None


MIN_NAME_WORD = 4  # shorter words ("y", "and") name no topic alone


def _name_words(category: Any) -> set[str]:
    """The words of a topic's names that can stand for it ("movilidad", "residuos")."""
    words = (fold(w) for name in (category.es, category.en) for w in re.split(r"\W+", name))
    return {word for word in words if len(word) >= MIN_NAME_WORD}


def _category(value: Any, label: Any, lab: LabSettings) -> str:
    """The topic's id from its id or its name in either language, without minding case or
    accents, or from one word of its name that names no other topic ("movilidad")."""
    given = _text(value) or _text(label)
    if not given:
        raise _Bad("missing category")
    wanted = fold(given)
    for category in lab.categories:
        if wanted in (fold(category.id), fold(category.es), fold(category.en)):
            return category.id
    by_word = [category for category in lab.categories if wanted in _name_words(category)]
    if len(by_word) == 1:
        return by_word[0].id
    known = ", ".join(f"{c.id} ({c.es})" for c in lab.categories)
    raise _Bad(f"unknown category {given!r} (use one of: {known})")


def _number(value: Any, name: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if "," in text and "." not in text:  # 4,5608 in a Spanish spreadsheet
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise _Bad(f"bad coordinates: {name} {text!r} is not a number") from None


def _coordinates(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    if _blank(lat) and _blank(lon):
        return None, None
    if _blank(lat) or _blank(lon):
        raise _Bad("bad coordinates: give both latitude and longitude, or neither")
    latitude, longitude = _number(lat, "latitude"), _number(lon, "longitude")
    if not -90 <= latitude <= 90:
        raise _Bad(f"bad coordinates: latitude {latitude} is not between -90 and 90")
    if not -180 <= longitude <= 180:
        raise _Bad(f"bad coordinates: longitude {longitude} is not between -180 and 180")
    return latitude, longitude


def _moment(value: Any, name: str, lab: LabSettings) -> datetime | None:
    """A time: an XLSX date cell is UTC, as the export writes it; text with Z or an offset is
    that moment, text without one is the lab's clock; a day alone starts in the lab's zone."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value
        if value.time() == time(0):
            return datetime.combine(value.date(), time(0), tzinfo=lab.zone)
        return value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=lab.zone)
    text = str(value).strip()
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"bad date in {name}: {text!r} (use YYYY-MM-DD or YYYY-MM-DD HH:MM)") from None
    if found.tzinfo is not None:
        return found
    return found.replace(tzinfo=lab.zone)


def _call(value: Any, calls: set[int]) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if not text.isdigit():
        raise _Bad(f"call_id {text!r} is not a number")
    if int(text) not in calls:
        raise _Bad(f"call {text} does not exist here; create it first, or leave call_id empty")
    return int(text)


def _yes_no(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise _Bad(f"{name} {text!r}: use yes or no")


def _publish(value: Any) -> Publish:
    if isinstance(value, bool):
        return Publish.TEXT if value else Publish.NO
    text = (_text(value) or "").lower()
    if text in YES:  # "may be published": its words, not photos
        return Publish.TEXT
    if text in NO:
        return Publish.NO
    try:
        return Publish(text)
    except ValueError:
        raise _Bad(f"unknown publish {text!r} (use one of: no, text, photos)") from None


_UNSAFE_PATH = re.compile(r"(^[/\\]|^[a-zA-Z]:|(^|[/\\])\.\.([/\\]|$))")


def _photos(value: Any) -> tuple[str, ...]:
    """Paths under the media folder, as the export writes them; nothing outside it."""
    paths = tuple((_text(value) or "").split())
    for path in paths:
        if _UNSAFE_PATH.search(path):
            raise _Bad(f"photo path {path!r} is outside the media folder")
    return paths


def _digest(parts: tuple[str, ...]) -> str:
    """A row without an id or reference is known by its content: problem, idea, category,
    place and the date as written (a missing date becomes the time of the import, which
    differs each time)."""
    return "row:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


# --- planning and writing --------------------------------------------------------------------


def reference_number(reference: str, prefix: str) -> tuple[int, int] | None:
    """ "MNG-2024-000123" -> (2024, 123) when it has the lab's format."""
    match = re.fullmatch(rf"{prefix}-(\d{{4}})-(\d{{6}})", reference)
    return (int(match.group(1)), int(match.group(2))) if match else None


async def plan_import(
    repos: Repositories, rows: Sequence[Row], lab: LabSettings, now: datetime, *,
    header: Sequence[str] = (), progress: Progress | None = None,
) -> ImportPlan:  # fmt: skip
    """What an import would do: the new rows, those already here, the bad ones (by line)."""
    plan = ImportPlan(rows=len(rows))
    plan.ignored_columns = tuple(n for n in header if n and n not in KNOWN)
    calls = await repos.imports.call_ids()
    checked: list[CheckedRow] = []
    seen: dict[str, int] = {}
    for done, row in enumerate(rows, start=1):
        result = check_row(row, lab, now, calls)
        if isinstance(result, BadRow):
            plan.bad.append(result)
        elif result.key in seen:
            plan.bad.append(BadRow(row.line, f"duplicate in the file: the same as line "
                                             f"{seen[result.key]}"))  # fmt: skip
        else:
            seen[result.key] = row.line
            checked.append(result)
        if progress is not None and done % 1000 == 0:
            progress(done)
    known = await repos.imports.known_external_ids([c.key for c in checked])
    given = [c.given_reference for c in checked if c.given_reference]
    stored = await repos.imports.problems_by_reference(given)
    fresh = []
    for item in checked:
        ref = item.given_reference
        if item.key in known or (
            ref == item.key and ref in stored and stored[ref] == item.idea.problem
        ):  # an export of this very database, brought back
            plan.already_there += 1
        else:
            fresh.append(item)
    plan.new = await _with_originals(repos, fresh, plan, checked)
    plan.bad.sort(key=lambda bad: bad.line)
    if progress is not None:
        progress(len(rows))
    return plan


async def _with_originals(
    repos: Repositories, rows: list[CheckedRow], plan: ImportPlan, checked: list[CheckedRow]
) -> list[CheckedRow]:
    """Drop (as bad) the duplicates whose original is neither in the file nor stored."""
    wanted = sorted({row.duplicate_of for row in rows if row.duplicate_of})
    if not wanted:
        return rows
    stored = set(await repos.imports.known_external_ids(wanted))
    stored |= set(await repos.imports.ids_by_reference(wanted))
    while True:
        in_file = {c.given_reference for c in checked if c.given_reference}
        missing = [r for r in rows if r.duplicate_of and r.duplicate_of not in in_file | stored]
        if not missing:
            return rows
        for row in missing:
            plan.bad.append(BadRow(row.line, f"duplicate_of {row.duplicate_of}: no such idea "
                                             "in the file or here"))  # fmt: skip
        gone = {id(row) for row in missing}
        rows = [r for r in rows if id(r) not in gone]
        checked = [c for c in checked if id(c) not in gone]


async def write_import(
    repos: Repositories, plan: ImportPlan, lab: LabSettings, now: datetime, *,
    progress: Progress | None = None,
) -> ImportResult:  # fmt: skip
    """Store the plan's new ideas (in the caller's transaction): references kept when they are
    the lab's and free, else numbered on from the year's counter."""
    rows = plan.new
    author = await repos.imports.author(now)
    ideas = await _referenced(repos, rows, lab)
    ids: list[int] = []
    for start in range(0, len(ideas), BATCH):
        ids += await repos.imports.insert(author, ideas[start : start + BATCH])
        if progress is not None:
            progress(len(ids))
    by_reference = {row.given_reference: i for row, i in zip(rows, ids, strict=True)
                    if row.given_reference}  # fmt: skip
    wanted = sorted({r.duplicate_of for r in rows if r.duplicate_of} - set(by_reference))
    pairs_needed = [(i, row.duplicate_of) for row, i in zip(rows, ids, strict=True)
                    if row.duplicate_of]  # fmt: skip
    if pairs_needed:
        # Brought in before under the file's reference (kept as external_id), or stored.
        stored = await repos.imports.ids_by_reference(wanted)
        stored |= await repos.imports.ids_by_external_id(wanted)
        targets = {**stored, **by_reference}
        await repos.imports.mark_duplicates([(i, targets[ref]) for i, ref in pairs_needed])
    return ImportResult(ids, [idea.reference for idea in ideas])


async def _referenced(
    repos: Repositories, rows: list[CheckedRow], lab: LabSettings
) -> list[ImportedIdea]:
    """Each row's final reference: its own if it is the lab's format and free, else new."""
    given = [r.given_reference for r in rows if r.given_reference]
    taken = set(await repos.imports.problems_by_reference(given))
    kept: dict[int, str] = {}
    highest: dict[int, int] = {}  # year -> the highest number kept
    for index, row in enumerate(rows):
        ref = row.given_reference
        number = reference_number(ref, lab.reference_prefix) if ref else None
        if ref and number and ref not in taken:
            taken.add(ref)
            kept[index] = ref
            highest[number[0]] = max(highest.get(number[0], 0), number[1])
    for year, last in sorted(highest.items()):
        await repos.imports.keep_numbers_above(year, last)
    numbering: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        if index not in kept:
            year = row.idea.created_at.astimezone(lab.zone).year
            numbering.setdefault(year, []).append(index)
    for year, indexes in sorted(numbering.items()):
        first = await repos.imports.take_numbers(year, len(indexes))
        for offset, index in enumerate(indexes):
            kept[index] = format_reference(lab.reference_prefix, year, first + offset)
    return [replace(row.idea, reference=kept[index]) for index, row in enumerate(rows)]
