"""`resblocks demo`: the main job of `make run`."""

import time


def cmd_demo(args) -> int:
    """Shows ResNet-50's stage table, then builds a 5-class ResNet-50 and runs it."""
    import numpy as np

    from registry import build, load_recipe, model_from_recipe
    from registry.summary import format_table, stage_rows

    recipe = load_recipe("resnet50")
    model = model_from_recipe(recipe)
    print(format_table(recipe, stage_rows(recipe, model), model))
    print()
    start = time.perf_counter()
    model = build("resnet50", num_classes=5)
    built = time.perf_counter() - start
    images = np.random.default_rng(0).uniform(0, 1, (2, 224, 224, 3)).astype("float32")
    start = time.perf_counter()
    probabilities = model.predict(images, verbose=0)
    ran = time.perf_counter() - start
    print(f"build('resnet50', num_classes=5): {model.count_params():,} parameters, built in {built:.1f} s")
    print(f"forward pass on 2 images of 224x224: output {probabilities.shape}, "
          f"rows sum to {probabilities.sum(axis=1).round(4).tolist()}, {ran:.1f} s")
    return 0


def add_to(commands) -> None:
    p = commands.add_parser("demo", help="the main job of `make run`")
    p.set_defaults(run=cmd_demo)
