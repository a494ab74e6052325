"""Commands for the classroom: exercises, check, and the block reference of the docs."""

from pathlib import Path


def cmd_exercises(args) -> int:
    from registry.exercises import NAMES, about

    for name in NAMES:
        title, starter = about(name)
        print(f"  {name:<18} {title}")
        print(f"  {'':<18} starter: docs/exercises/{name}/{starter}")
    return 0


def cmd_check(args) -> int:
    from registry.exercises import check

    verdict = check(args.exercise, args.file)
    print(verdict)
    return 0 if verdict.passed else 1


def cmd_reference(args) -> int:
    from registry.inspection.reference import blocks_reference

    text = blocks_reference()
    if args.output:
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


def add_to(commands) -> None:
    from registry.exercises import NAMES

    p = commands.add_parser("exercises", help="list the self-checking exercises")
    p.set_defaults(run=cmd_exercises)

    p = commands.add_parser(
        "check", help="check your answer to an exercise: PASS, or FAIL with a hint"
    )
    p.add_argument(
        "exercise",
        choices=NAMES,
        metavar="EXERCISE",
        help=f"one of: {', '.join(NAMES)}",
    )
    p.add_argument("file", metavar="FILE", help="your copy of the exercise's starter file")
    p.set_defaults(run=cmd_check)

    p = commands.add_parser(
        "reference", help="Markdown reference of every registered block (docs/reference/blocks.md)"
    )
    p.add_argument("--output", "-o", help="write to this file")
    p.set_defaults(run=cmd_reference)
