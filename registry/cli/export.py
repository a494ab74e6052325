"""`resblocks export`: a trained model in a serving format, checked in its runtime first.

  resblocks export RUN/model.keras --format onnx --out exported/model.onnx
      [--images VAL_DIR] [--no-fold-bn] [--force] [--int8 --calibration DIR]

Formats: savedmodel (TensorFlow Serving), onnx (ONNX Runtime), litert
(phones; the LiteRT interpreter), openvino (Intel CPUs). The exported model
takes raw 0-255 RGB images and carries the class names and input size;
`resblocks predict EXPORTED IMAGE...` runs it.
"""

import argparse

from registry.cli.options import SAVED_PLUGINS_HELP, UsageError, add_recipe_options


def cmd_export(args) -> int:
    from registry.deploy.exporting import export

    if args.calibration is not None and not args.int8:
        raise UsageError("--calibration goes with --int8 (the images int8 quantization sees).")
    if args.int8 and args.calibration is None:
        raise UsageError("--int8 needs --calibration DIR: a folder of images to calibrate on.")
    result = export(
        args.model,
        args.out,
        args.format,
        fold_bn=args.fold_bn,
        force=args.force,
        images=args.images,
        int8=args.int8,
        calibration=args.calibration,
        allow_plugins=args.allow_plugins,
    )
    print(result.summary())
    return 0


def add_to(commands) -> None:
    from registry.deploy.formats import FORMATS

    p = commands.add_parser(
        "export",
        help="write a trained model as SavedModel, ONNX, LiteRT or OpenVINO, verified first",
        description="Export a .keras model (or run folder) to a serving format. The export is "
        "run in its own runtime and compared with Keras before anything is written.",
    )
    p.add_argument("model", metavar="MODEL", help="a .keras file or a run folder")
    p.add_argument(
        "--format", required=True, metavar="FORMAT", help=f"one of: {', '.join(FORMATS)}"
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="output: a folder for savedmodel, a file for the others (suffix added if missing)",
    )
    p.add_argument(
        "--images",
        metavar="DIR",
        help="a class-per-subfolder folder to check the export on (default: the validation "
        "images of the model's run folder, else generated images)",
    )
    p.add_argument(
        "--fold-bn",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fold batch norm into the convolutions (default: on)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument(
        "--int8", action="store_true", help="int8 post-training quantization (litert, openvino)"
    )
    p.add_argument("--calibration", metavar="DIR", help="with --int8: images to calibrate on")
    add_recipe_options(p, help_text=SAVED_PLUGINS_HELP)
    p.set_defaults(run=cmd_export)
