"""Run the Alembic migrations that ship with the package.

The migrations live in the top-level `migrations` package, which the wheel installs beside
`services`, so `stance migrate` finds them the same way from a checkout, an editable install or
`pip install .` (the image and the Kubernetes Job), with no `alembic.ini` on disk. The
checkout's `alembic.ini` is only for developers running `alembic` by hand.
"""

from importlib.resources import as_file, files
from pathlib import Path

from alembic import command
from alembic.config import Config


def script_location() -> Path:
    with as_file(files("migrations")) as path:  # a real directory: setuptools installs unzipped
        return Path(path)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic's `check`)."""
    command.check(alembic_config(database_url))
