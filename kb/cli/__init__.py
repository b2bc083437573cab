"""The ``kb`` command line. Data to stdout, messages to stderr.

Exit codes: 0 ok; 1 refused (data does not conform); 2 usage, input or runtime error.
The commands live in :mod:`kb.cli.data` (the knowledge base) and :mod:`kb.cli.steward`
(tokens and writes); :mod:`kb.cli.options` holds what they share.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from kb.cli import data, partners, steward
from kb.cli.options import EXIT_ERROR
from kb.errors import KBError


class KBGroup(click.Group):
    """Turns :class:`KBError` into a one-line message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KBError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=KBGroup)
@click.version_option(package_name="clusterkb")
def main() -> None:
    """ClusterKB: the linked open data knowledge base of provincial cluster policy."""


for command in (
    data.load,
    data.validate,
    data.query,
    data.generate,
    data.export,
    data.serve,
    data.migrate,
    data.coverage,
    data.publish,
    data.mqa,
    steward.token,
    steward.submit,
    steward.rollback,
    partners.links,
    partners.partner,
    partners.harvest,
):
    main.add_command(command)
