"""`python -m integration_tests.sandbox --write-export DIR [export options] [--projects N ...]`.

Generates the same world the sandbox's API would serve with the same options, writes it as
Tracker export files into DIR, prints one JSON line naming them, and exits. With
`--export-series N`, the world is exported N times, changed between exports (export_series.py),
into DIR/export-1 (oldest) ... DIR/export-N.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import orjson

from .export_families import FAMILIES
from .export_series import write_export_series
from .export_writer import LAYOUTS, ExportOptions
from .options import SandboxOptions, build_parser
from .store import Store


def build_export_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    group = parser.add_argument_group("export files (instead of serving the API)")
    group.add_argument(
        "--write-export", metavar="DIR", type=Path, required=True, help="write the exports here"
    )
    group.add_argument(
        "--export-family", choices=list(FAMILIES), default="E", help="header family (default: E)"
    )
    group.add_argument(
        "--export-layout", choices=LAYOUTS, default="zip", help="zip, bare stories csv, or folder"
    )
    group.add_argument("--crlf", action="store_true", help="CRLF line ends, as a spreadsheet re-save writes")
    group.add_argument("--bom", action="store_true", help="start every CSV with a UTF-8 BOM")
    group.add_argument(
        "--attachment-bytes",
        type=int,
        metavar="N",
        help="screenshots of real sizes, 10 KB up to N bytes (default: a few hundred bytes each)",
    )
    rows = group.add_mutually_exclusive_group()
    rows.add_argument("--padded", dest="padded", action="store_true", default=None, help="pad every row")
    rows.add_argument("--ragged", dest="padded", action="store_false", help="end rows at their last value")
    group.add_argument(
        "--export-series", metavar="N", type=int, default=1, help="export the world N times, changed between"
    )
    group.add_argument(
        "--export-days-apart", metavar="D", type=int, default=90, help="days between two exports of a series"
    )
    group.add_argument(
        "--export-every-story",
        action="store_true",
        help="the newest export of a series holds the Done stories too (by default it leaves them out)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    namespace = vars(build_export_parser().parse_args(argv))
    sandbox_fields = {f.name for f in dataclasses.fields(SandboxOptions)}
    try:
        options = SandboxOptions(**{k: v for k, v in namespace.items() if k in sandbox_fields})
        export = ExportOptions(
            family=namespace["export_family"],
            layout=namespace["export_layout"],
            crlf=namespace["crlf"],
            bom=namespace["bom"],
            padded=namespace["padded"],
            attachment_bytes=namespace["attachment_bytes"],
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    count = namespace["export_series"]
    try:
        series = write_export_series(
            Store(options, options.epoch or None),
            namespace["write_export"],
            export,
            count,
            namespace["export_days_apart"],
            leave_out_done=not namespace["export_every_story"],
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    files = [
        {"project": e.project_name, "path": str(e.path), **({"export": number} if count > 1 else {})}
        for number, written in enumerate(series, start=1)
        for e in written
    ]
    sys.stdout.write(orjson.dumps({"exports": files}).decode() + "\n")
    return 0
