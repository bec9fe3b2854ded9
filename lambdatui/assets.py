"""What lambdatui ships inside its package, and the user's own copy of the sample project.

Everything the program reads at run time comes from package data through `importlib.resources`
(themes, the sample project, event templates, prices, runtime bootstraps), so a wheel installed
anywhere works without the source checkout.

The sample project is never opened where it is installed: the first time lambdatui starts with
no configuration, it copies the sample to the user's data folder (platformdirs) and opens that
copy, so saving in the editor, saving an event or dropping a file in its upload folder never
writes into the installed package or into a git checkout. The copy is made in a temporary folder
and renamed into place, so two lambdatui processes starting at once end up with one whole copy.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from importlib.resources import as_file, files
from pathlib import Path

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable

SAMPLE_CONFIG_NAME = "lambdatui.yaml"
USER_SAMPLE_ENV_VAR = "LAMBDATUI_SAMPLE_DIR"  # where the user's copy lives (tests, demos)


def package_file(*parts: str) -> Traversable:
    """A file or folder of the installed package, e.g. package_file("themes")."""
    resource = files("lambdatui")
    for part in parts:
        resource = resource.joinpath(part)
    return resource


def themes_folder() -> Traversable:
    return package_file("themes")


def user_sample_dir() -> Path:
    override = os.environ.get(USER_SAMPLE_ENV_VAR)
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("lambdatui")) / "sample"


def user_sample_config() -> Path:
    """The user's copy of the sample project's config, copied from the package on first use."""
    target = user_sample_dir()
    config = target / SAMPLE_CONFIG_NAME
    if config.is_file():
        return config
    copy_tree(package_file("sample"), target)
    return config


def copy_tree(source: Traversable, target: Path) -> None:
    """Copy a package folder to `target` (which must not exist yet), atomically: into a temporary
    sibling, then renamed. If another process got there first, its copy is kept."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with as_file(source) as real:  # a real folder, even from a zipped install
            shutil.copytree(real, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        try:
            os.rename(staging, target)
        except OSError:
            if not target.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
