"""Reading downloads back: CSV text and the cells of an XLSX workbook's first sheet."""

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.getvalue() if hasattr(response, "getvalue") else response.content


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body_of(response).decode("utf-8-sig"))))


def numbers_in(response, column=0) -> set[str]:
    """A CSV download's values in `column` (the list's numbers), the header excluded."""
    _, *rows = csv_rows(response)
    return {row[column] for row in rows}


def xlsx_rows(response) -> list[list[str]]:
    """Every row's cell texts (numbers as written), in column order."""
    with zipfile.ZipFile(io.BytesIO(body_of(response))) as workbook:
        names = workbook.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            root = ElementTree.fromstring(workbook.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root]
        sheet = ElementTree.fromstring(workbook.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{{{NS['m']}}}row"):
        cells = {}
        for c in row.findall("m:c", NS):
            column = re.match(r"[A-Z]+", c.get("r")).group()
            if c.get("t") == "inlineStr":
                value = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
            elif c.get("t") == "s":
                value = shared[int(c.find("m:v", NS).text)]
            else:
                value = c.find("m:v", NS).text
            cells[_column_index(column)] = value
        rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
    return rows


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1
