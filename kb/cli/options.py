"""What the ``kb`` commands share: exit codes, the common options, settings, file progress."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click
from tqdm import tqdm

from kb.config import Settings, load_settings

EXIT_REFUSED = 1
EXIT_ERROR = 2

store_option = click.option(
    "--store",
    "store",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Store folder (default: the `store` setting, KB_STORE).",
)


def settings_for(**overrides: Any) -> Settings:
    return load_settings(
        {k: (str(v) if isinstance(v, Path) else v) for k, v in overrides.items() if v is not None}
    )


token_option = click.option(
    "--token",
    envvar="KB_TOKEN",
    default=None,
    help="Steward token (or the KB_TOKEN environment variable).",
)


@contextlib.contextmanager
def progress(path: Path, label: str) -> Iterator[IO[bytes]]:
    size = path.stat().st_size
    with (
        path.open("rb") as fh,
        tqdm.wrapattr(
            fh,
            "read",
            total=size,
            desc=label,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            disable=None,
            leave=False,
        ) as wrapped,
    ):
        yield wrapped
