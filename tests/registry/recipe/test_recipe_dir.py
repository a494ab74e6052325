"""The shipped recipes are found from the package, whatever the working directory holds."""

import subprocess
import sys

from registry.recipe.files import RECIPE_DIR


def test_recipe_dir_is_the_shipped_folder():
    assert (RECIPE_DIR / "resnet18.yaml").is_file()
    assert (RECIPE_DIR.parent / "registry" / "__init__.py").is_file()


def test_a_users_recipes_folder_does_not_hide_the_shipped_ones(tmp_path):
    """`recipes/` is where a user keeps recipe files. Python puts the working
    directory first on its path, and under the editable install that `make`
    makes the shipped `recipes` is no folder on that path, so asking the
    import system for `recipes` found the user's folder (and failed with a
    TypeError). A fresh interpreter: the working directory is what is tested."""
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "mine.yaml").write_text("base: resnet18\nname: mine\n")
    code = (
        "from registry import build, list_models\n"
        "model = build('resnet18', input_shape=(32, 32, 3))\n"
        "mine = build('recipes/mine.yaml', input_shape=(32, 32, 3))\n"
        "print(model.count_params(), mine.count_params(), 'resnet50' in list_models())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["11699112", "11699112", "True"]
