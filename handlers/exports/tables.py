"""CSV and XLSX: one row per idea, the columns of columns.py."""

import csv
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from handlers.engine.settings import LabSettings
from handlers.exports.columns import columns, defuse
from storage.models import IdeaRecord


async def write_csv(
    ideas: AsyncIterator[IdeaRecord], path: Path, lab: LabSettings, *, with_contact: bool
) -> int:
    """UTF-8 with a byte order mark, so that spreadsheet programs read the accents right."""
    chosen = columns(with_contact)
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([c.name for c in chosen])
        async for idea in ideas:
            row = []
            for column in chosen:
                value = column.value(idea, lab)
                if isinstance(value, bool):
                    value = "yes" if value else "no"
                row.append(defuse(value) if isinstance(value, str) else value)
            writer.writerow(row)
            count += 1
    return count


async def write_xlsx(
    ideas: AsyncIterator[IdeaRecord], path: Path, lab: LabSettings, *, with_contact: bool
) -> int:
    """openpyxl's write-only mode streams rows to disk; text cells are typed as text, so
    nothing a resident wrote can become a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    chosen = columns(with_contact)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("ideas")
    bold = Font(bold=True)
    header = []
    for column in chosen:
        cell = WriteOnlyCell(sheet, value=column.name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    async for idea in ideas:
        row: list[object] = []
        for column in chosen:
            value = column.value(idea, lab)
            if column.name in ("created_at", "updated_at"):  # UTC (README, "Exports")
                value = datetime.fromisoformat(value).replace(tzinfo=None)
            elif isinstance(value, str) and value.startswith("="):
                # openpyxl would store this as a formula; a typed cell keeps it text. Only
                # these get a cell object: plain values are several times faster to write.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                value = cell
            row.append(value)
        sheet.append(row)
        count += 1
    workbook.save(path)
    return count
