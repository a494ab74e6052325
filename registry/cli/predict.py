"""`resblocks predict`: the top classes of image files, one line per image.

Two forms, one command:
  resblocks predict MODEL IMAGE... [--top K]
      a saved model (`.keras`, or a run folder for its model.keras); the
      labels are its own class names (the head keeps them), ImageNet names
      for a 1000-class model without names, class numbers otherwise. Images
      are read with the decoder the model was trained with.
  resblocks predict --model NAME --weights FILE IMAGE... [--top K]
      a recipe with ImageNet weights (a keras.applications file, a
      torchvision .pth or timm .safetensors checkpoint, or a
      resblocks one); the top ImageNet labels (5 unless --top), images read
      as keras' load_img does.
  resblocks predict --model NAME --weights FILE IMAGE... [--embeddings OUT.npy]
      a recipe whose head is `embedding` (facenet_inception_resnet_v1 with
      facenet-pytorch's VGGFace2 or CASIA-WebFace weights): one line per
      image, `path  embedding  D values, norm N`; --embeddings writes the
      vectors, one row per image in the order given, as a .npy file.
  resblocks predict EXPORTED IMAGE... [--top K]
      a model written by `resblocks export` (a SavedModel folder, .onnx,
      .tflite or .xml), run by its own runtime, with the class names and
      input size it carries.
Each line is `path  label  probability`, then further label-probability
pairs for --top K; --json prints the same as a list. An image that is
missing or cannot be read gets a line on standard error instead, the
others are still answered, and the exit code is then 1.
"""

import json
import os
import sys
from pathlib import Path

from registry.cli.options import (
    SAVED_PLUGINS_HELP,
    UsageError,
    add_recipe_options,
    add_tta_option,
    positive_int,
)


def cmd_predict(args) -> int:
    paths = list(args.inputs)
    if args.model is None and len(paths) < 2:
        return _predict(args, paths)  # which usage error: _predict says
    model_given = args.model is None
    model_path, images = (paths[0], paths[1:]) if model_given else (None, paths)
    readable, failed = _readable(images)
    if not readable:
        raise UsageError("none of the images can be read: " + "; ".join(failed))
    paths = ([model_path] if model_given else []) + readable
    code = _predict(args, paths)
    for line in failed:
        print(f"error: {line}", file=sys.stderr)
    return 1 if failed else code


def _readable(images: list[str]) -> tuple[list[str], list[str]]:
    """The images that exist and decode, and one line for the missing and each unreadable one."""
    from registry.training.data import unreadable_images

    missing = [path for path in images if not os.path.isfile(path)]
    present = [path for path in images if os.path.isfile(path)]
    bad = unreadable_images(present)
    failed = [f"no such image file(s): {', '.join(missing)}"] if missing else []
    failed += [f"{path}: cannot read it: {reason}" for path, reason in bad.items()]
    return [path for path in present if path not in bad], failed


def _predict(args, paths: list[str]) -> int:
    if args.embeddings is not None and args.model is None:
        raise UsageError(
            "--embeddings goes with --model NAME --weights FILE of a recipe with an embedding "
            "head, e.g. facenet_inception_resnet_v1."
        )
    if args.tta is not None and (args.model is not None or _exported(paths[0])):
        raise UsageError(
            "--tta goes with a saved model (MODEL.keras or a run folder); an exported model or "
            "--model NAME reads each image once."
        )
    if args.model is not None:
        from registry.training.predict_pretrained import is_embedding_recipe, predict_imagenet

        if is_embedding_recipe(args.model):
            return _embed(args, paths)
        if args.embeddings is not None:
            raise UsageError(
                f"--embeddings needs a recipe with an embedding head; {args.model}'s head is a "
                "classifier. Use --top K for its classes."
            )

        if args.weights is None:
            raise UsageError(
                "--model needs --weights FILE: the ImageNet weights of that recipe (a "
                "keras.applications .h5, a torchvision .pth or a timm .safetensors file)."
            )
        rows = predict_imagenet(
            args.model,
            args.weights,
            paths,
            top=args.top or 5,
            interpolation=args.interpolation,
        )
        results = [
            [_row(r.class_index, r.name, r.score, r.class_id) for r in image_rows]
            for image_rows in rows
        ]
    elif _exported(paths[0]):
        from registry.deploy.predict import predict_exported

        if len(paths) < 2:
            raise UsageError(
                "Give the exported model and images: `resblocks predict MODEL IMAGE...`."
            )
        if args.weights is not None or args.interpolation is not None or args.image_size:
            raise UsageError(
                "--weights, --interpolation and --image-size do not go with an exported model: "
                "it holds its weights and input size."
            )
        model = paths.pop(0)
        predictions = predict_exported(model, paths, top=args.top or 1, batch_size=args.batch_size)
        results = [[_row(*ranked) for ranked in p.top] for p in predictions]
    else:
        from registry.training.eval_transform import with_tta
        from registry.training.predict import predict

        if len(paths) < 2 or not (paths[0].endswith(".keras") or Path(paths[0]).is_dir()):
            raise UsageError(
                "Give a saved model and images (`resblocks predict MODEL.keras IMAGE...`) or a "
                "recipe with weights (`resblocks predict --model NAME --weights FILE IMAGE...`)."
            )
        if args.weights is not None or args.interpolation is not None:
            raise UsageError(
                "--weights and --interpolation go with --model NAME. A saved model holds its "
                "weights and reads images with the decoder it was trained with."
            )
        model = paths.pop(0)
        predictions = predict(
            model,
            paths,
            top=args.top or 1,
            batch_size=args.batch_size,
            image_size=args.image_size,
            allow_plugins=args.allow_plugins,
            eval_transform=with_tta(model, args.tta),
        )
        results = [[_row(*ranked) for ranked in p.top] for p in predictions]
    if args.json:
        print(
            json.dumps([{"image": p, "predictions": r} for p, r in zip(paths, results)], indent=2)
        )
        return 0
    for path, rows in zip(paths, results):
        print("  ".join([path, *(f"{row['name']}  {row['score']:.4f}" for row in rows)]))
    return 0


def _embed(args, paths: list[str]) -> int:
    """One line per image (its embedding's size and norm), the vectors to --embeddings."""
    import numpy as np

    from registry.training.predict_pretrained import embed_images

    if args.weights is None:
        raise UsageError(
            "--model needs --weights FILE: for an embedding recipe, a facenet-pytorch .pt file "
            "(or its .safetensors conversion)."
        )
    vectors = embed_images(
        args.model, args.weights, paths, interpolation=args.interpolation or "nearest"
    )
    norms = np.linalg.norm(vectors, axis=1)
    if args.embeddings is not None:
        np.save(args.embeddings, vectors)
    if args.json:
        rows = [
            {"image": p, "norm": round(float(n), 6), "embedding": [round(float(v), 7) for v in e]}
            for p, n, e in zip(paths, norms, vectors)
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for path, norm in zip(paths, norms):
        print(f"{path}  embedding  {vectors.shape[1]} values, norm {norm:.4f}")
    if args.embeddings is not None:
        print(
            f"wrote {vectors.shape[0]} embeddings of {vectors.shape[1]} values to {args.embeddings}"
        )
    return 0


def _exported(path: str) -> bool:
    """An exported model (`resblocks export`): its suffix, or a SavedModel folder."""
    from registry.deploy.predict import is_exported

    return is_exported(path)


def _row(index: int, name: str, score: float, class_id: str | None = None) -> dict:
    return {"index": index, "name": name, "score": round(float(score), 6), "class_id": class_id}


def add_to(commands) -> None:
    p = commands.add_parser(
        "predict",
        help="top classes of images: a saved model, or a recipe with ImageNet weights",
        description="Print `path  label  probability` for each image: "
        "resblocks predict MODEL IMAGE... "
        "(a .keras file or run folder), or resblocks predict --model NAME --weights FILE IMAGE...",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="MODEL IMAGE... (.keras, run folder or exported model), or IMAGE... with --model",
    )
    p.add_argument("--model", help="recipe name or file, e.g. inception_resnet_v2 (with --weights)")
    p.add_argument(
        "--weights",
        help=(
            "ImageNet weights for --model: a keras.applications .h5, a torchvision .pth, "
            "a timm .safetensors or a resblocks file"
        ),
    )
    p.add_argument(
        "--top",
        type=positive_int,
        default=None,
        metavar="K",
        help="classes per image (default 1 for a saved model, 5 with --model)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=32,
        metavar="N",
        help="images per forward pass (saved model)",
    )
    p.add_argument(
        "--image-size", type=positive_int, metavar="N", help="for saved models that take any size"
    )
    p.add_argument(
        "--interpolation",
        default=None,
        choices=("nearest", "bilinear", "bicubic"),
        help="with --model: resizing to the input size (default: the recipe's train.eval, "
        "else nearest, as keras' load_img)",
    )
    p.add_argument(
        "--embeddings",
        metavar="FILE.npy",
        help="with --model of an embedding recipe (facenet_inception_resnet_v1): write the "
        "vectors, one row per image",
    )
    add_tta_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    add_recipe_options(p, help_text=SAVED_PLUGINS_HELP)
    p.set_defaults(run=cmd_predict)
