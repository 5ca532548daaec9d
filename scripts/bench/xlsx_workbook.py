"""Writes the benchmark's workbook: the sandbox's stories CSV re-saved as .xlsx, as Excel would.

`python scripts/bench/xlsx_workbook.py FOLDER STORIES` writes FOLDER/stories.csv and
FOLDER/stories.xlsx (numbers as numbers, days as dates, shared strings) and prints their paths as
JSON. A process of its own, so that the benchmark's parent stays small: Linux carries a parent's
RSS at fork over to its child's ru_maxrss, which would then measure the parent.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from integration_tests.harness import write_export  # noqa: E402
from unit_tests.exports.builder import xlsx_copy  # noqa: E402


def main() -> None:
    folder, stories = Path(sys.argv[1]), sys.argv[2]
    export = write_export(
        folder / "export", "--projects", "1", "--disabled-projects", "0", "--stories", stories
    )
    with zipfile.ZipFile(export[0]) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".csv") and not n.endswith("_history.csv"))
        content = archive.read(name)
    (folder / "stories.csv").write_bytes(content)
    xlsx_copy(content, folder / "stories.xlsx")
    print(json.dumps({"csv": str(folder / "stories.csv"), "xlsx": str(folder / "stories.xlsx")}))


if __name__ == "__main__":
    main()
