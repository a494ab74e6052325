"""`resblocks predict`: the top classes of image files.

Two forms, one command:
  resblocks predict --model inception_resnet_v2 --weights FILE.h5 IMAGE...
      a recipe with ImageNet weights (a keras.applications file or a
      resblocks one); prints the top ImageNet labels.
  resblocks predict MODEL.keras IMAGE...
      a saved resblocks model; ImageNet labels if it has 1000 classes,
      its own class names if it keeps them, class numbers otherwise.
"""

import json
from pathlib import Path


def cmd_predict(args) -> int:
    import sys

    try:
        return _predict(args)
    except ValueError as error:  # an unreadable image, a model of another class count
        print(f"error: {error}", file=sys.stderr)
        return 2


def _predict(args) -> int:
    from registry.imagenet import decode_predictions, load_images, predict_imagenet

    paths = list(args.inputs)
    if args.model is not None:
        if args.weights is None:
            raise FileNotFoundError("--model needs --weights FILE: the ImageNet weights (.h5) of that recipe.")
        rows = predict_imagenet(args.model, args.weights, paths, top=args.top, interpolation=args.interpolation)
        results = [[_row(r.class_index, r.name, r.score, r.class_id) for r in image_rows] for image_rows in rows]
    else:
        if len(paths) < 2 or not paths[0].endswith(".keras"):
            raise FileNotFoundError(
                "Give a saved model and images (`resblocks predict MODEL.keras IMAGE...`) or a recipe "
                "with weights (`resblocks predict --model NAME --weights FILE IMAGE...`)."
            )
        results = _predict_saved(paths.pop(0), paths, args.top, args.interpolation, decode_predictions, load_images)
    if args.json:
        print(json.dumps([{"image": p, "predictions": r} for p, r in zip(paths, results)], indent=2))
        return 0
    for path, rows in zip(paths, results):
        print(path)
        for rank, row in enumerate(rows, 1):
            wnid = f"  {row['class_id']}" if row.get("class_id") else ""
            print(f"  {rank}. {row['name']:<28} {row['score']:.4f}{wnid}")
    return 0


def _predict_saved(model_path, image_paths, top, interpolation, decode_predictions, load_images) -> list:
    import numpy as np

    from registry.preprocessing import preprocess_input
    from registry.weights import load_model

    model = load_model(Path(model_path))  # safe mode; a missing, cut or corrupt file is a WeightsError
    height, width = model.input_shape[1:3]
    images = preprocess_input(model, load_images(image_paths, (height or 224, width or 224), interpolation))
    preds = model.predict(images, verbose=0, batch_size=8)
    if preds.shape[-1] == 1000:
        decoded = decode_predictions(preds, top)
        return [[_row(r.class_index, r.name, r.score, r.class_id) for r in rows] for rows in decoded]
    names = list(getattr(model, "class_names", None) or [str(i) for i in range(preds.shape[-1])])
    best = np.argsort(preds, axis=-1)[:, ::-1][:, :top]
    return [[_row(int(i), names[i], float(pred[i])) for i in order] for pred, order in zip(preds, best)]


def _row(index: int, name: str, score: float, class_id: str | None = None) -> dict:
    return {"index": index, "name": name, "score": round(float(score), 6), "class_id": class_id}


def add_to(commands) -> None:
    p = commands.add_parser("predict", help="top classes of images: a saved model, or a recipe with ImageNet weights")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="MODEL.keras IMAGE... , or IMAGE... with --model")
    p.add_argument("--model", help="recipe name or file, e.g. inception_resnet_v2 (with --weights)")
    p.add_argument("--weights", help="ImageNet weights for --model: a keras.applications .h5 file or a resblocks one")
    p.add_argument("--top", type=int, default=5, help="classes per image (default 5)")
    p.add_argument("--interpolation", default="nearest", choices=("nearest", "bilinear", "bicubic"),
                   help="resizing to the model's input size (default nearest, as keras' load_img)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=cmd_predict)
