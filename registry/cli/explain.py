"""`resblocks explain`: Grad-CAM pictures of where a trained model looks (Selvaraju et al. 2017)."""

from pathlib import Path

from registry.cli.options import SAVED_PLUGINS_HELP, add_recipe_options, positive_int


def cmd_explain(args) -> int:
    from registry.training.explain import explain

    for result in explain(
        args.model,
        args.images,
        args.out,
        layer=args.layer,
        class_name=args.class_name,
        image_size=args.image_size,
        allow_plugins=args.allow_plugins,
    ):
        print(result.line())
    return 0


def add_to(commands) -> None:
    p = commands.add_parser(
        "explain",
        help="Grad-CAM: each image with a heatmap of where the model found its class",
        description="Write one picture per image into --out: the image with its Grad-CAM "
        "heatmap (Selvaraju et al. 2017) over it, titled with the predicted class and "
        "probability, and the true class when the image's folder is named after one.",
    )
    p.add_argument("model", metavar="MODEL", help=".keras file or run folder")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (jpg, png, bmp, gif)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the pictures")
    p.add_argument(
        "--layer",
        metavar="NAME",
        help="body layer whose map is explained, e.g. conv4_block2 (default: the last "
        "one before the head)",
    )
    p.add_argument(
        "--class",
        dest="class_name",
        metavar="LABEL",
        help="class to explain in every image (default: each image's predicted class)",
    )
    p.add_argument(
        "--image-size", type=positive_int, metavar="N", help="for models that take any size"
    )
    add_recipe_options(p, help_text=SAVED_PLUGINS_HELP)
    p.set_defaults(run=cmd_explain)
