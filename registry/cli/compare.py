"""`resblocks compare`: run folders side by side, a table of their figures and a plot of curves."""

import json
from pathlib import Path

from registry.cli.options import UsageError


def cmd_compare(args) -> int:
    from registry.training.compare import compare_runs, format_table

    if not args.runs:
        raise UsageError(
            "compare needs at least 1 run folder (the --out of `resblocks train`). Received: none."
        )
    if args.out is not None and args.out.suffix.lower() != ".png":
        raise UsageError(f"--out is a PNG file, such as curves.png. Received: {str(args.out)!r}")
    runs = compare_runs(args.runs, args.out)
    if args.json:
        figure = None if args.out is None else str(args.out)
        print(json.dumps({"runs": [run.to_json() for run in runs], "figure": figure}, indent=1))
        return 0
    print(format_table(runs))
    if args.out is not None:
        print(f"curves: {args.out}")
    return 0


def add_to(commands) -> None:
    p = commands.add_parser(
        "compare",
        help="run folders side by side: parameters, time, best accuracy, and one plot of curves",
        description="Compare training runs: a table of each run's parameters, epochs, training "
        "time, best validation accuracy (and its epoch) and final training loss, and with --out "
        "their loss and accuracy curves in one figure, one colour per run, training dashed, "
        "validation solid (He et al. 2015, Figure 6). Reads the run folders' files only.",
    )
    p.add_argument(
        "runs", nargs="*", metavar="RUN_DIR", help="run folders (the --out of `resblocks train`)"
    )
    p.add_argument("--out", type=Path, metavar="PNG", help="draw the curves into this PNG file")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(run=cmd_compare)
