"""`costcalc models` and `costcalc limits`: what the tables hold, for people or as data."""

from __future__ import annotations

import click

from .app import cli
from .options import load, output_options, tables_option, write_rows


@cli.command(epilog="Exit codes: 0 success; 2 bad arguments or table file.")
@output_options("json", "csv", "nl", help={"json": "One JSON document: a list of models."})
@tables_option
def models(output, table_files):
    """The model table: billing scheme, detail rules, price, and sources.

    Tile cells read base+tile per 512 px tile; patch cells read
    max_dimension/patch_budget ("-" = no budget).

    \b
    Examples:
      costcalc models
      costcalc models --json
      costcalc models --tables my-models.toml
    """
    from ..output.report import model_row, models_table

    tables = load(table_files)
    listed = tables.models()
    if output:
        write_rows([model_row(model, tables) for model in listed], output)
    else:
        click.echo(models_table(listed, tables))


@cli.command(epilog="Exit codes: 0 success; 2 bad arguments.")
@output_options("json", "csv", "nl", help={"json": "One JSON document: a list of rules."})
def limits(output):
    """The API's input rules, by edition, with their sources (checked by `costcalc audit`).

    Rows of scope `size` are the size limits in the model rules (edition
    `model table`): sides, aspect ratio, patches a model's API rejects.

    \b
    Examples:
      costcalc limits
      costcalc audit photos/ -m gpt-4o --limits 2023-2025
    """
    from ..catalog.limits import limit_editions, limit_providers, load_limits, size_limits
    from ..output.report import render_table

    editions = [load_limits(edition, provider=provider).rules
                for provider in limit_providers() for edition in limit_editions(provider=provider)]  # fmt: skip
    listed = [rule for edition in editions for rule in edition.values()] + size_limits()  # the model rules' own
    if output:
        write_rows([vars(rule) | {"value": list(rule.value) if isinstance(rule.value, tuple) else rule.value}
                    for rule in listed], output)  # fmt: skip
        return
    body = [[r.provider, r.edition, r.scope, r.rule, _shown(r.value), r.source] for r in listed]
    click.echo(render_table([["vendor", "edition", "scope", "rule", "value", "source"]], body, right=set()))
    click.echo("\nVendors not listed have no input rules on file: what they refuse is unknown, not borrowed.")


def _shown(value) -> str:
    """A rule's value for people: allowed/rejected, a count with separators, or a list."""
    if isinstance(value, bool):
        return "allowed" if value else "rejected"
    if isinstance(value, int):
        return f"{value:,}"
    return ", ".join(value)
