"""Reads every row of a workbook's first sheet with one library, and nothing else.

`python scripts/bench/xlsx_rows_only.py openpyxl|calamine WORKBOOK.xlsx`: the floor of each
library under the connector's reading of a workbook (exports/xlsx_rows.py), for the benchmark's
choice between openpyxl in read-only mode (streams the sheet) and python-calamine (loads it whole).
"""

from __future__ import annotations

import sys


def rows(library: str, path: str) -> int:
    count = 0
    if library == "openpyxl":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        for _ in workbook.worksheets[0].iter_rows(values_only=True):
            count += 1
        workbook.close()
    else:
        from python_calamine import CalamineWorkbook

        for _ in CalamineWorkbook.from_path(path).get_sheet_by_index(0).iter_rows():
            count += 1
    return count


if __name__ == "__main__":
    print(rows(sys.argv[1], sys.argv[2]), file=sys.stderr)
