"""The commands of the `resblocks` command line, one module per topic.

Each module has `add_to(commands)`, which adds its subparsers and sets
`run` on each to a function of the parsed arguments returning an exit code.
"""
