"""`costcalc models` and `costcalc limits`: what the tables hold, for people or as data."""

from __future__ import annotations

import click

from ..catalog.dates import LIFECYCLE_STATUSES
from .app import ArgumentError, cli
from .common import write_rows
from .options import freshness, load, output_options, tables_option


@cli.command(epilog="Exit codes: 0 success; 2 bad arguments or table file.")
@click.argument("pattern", required=False)
@click.option("--status", type=click.Choice(LIFECYCLE_STATUSES), help="Only the models with this status on the day.")
@output_options("json", "csv", "nl", help={"json": "One JSON document: a list of models."})
@tables_option
def models(pattern, status, output, table_files):
    """The model table: vendor, billing scheme, how sure, price and status on the day.

    PATTERN keeps the names that contain it (or match it, with * ? [ ]);
    a model's exact name shows that model in full. Wide detail (rules,
    tiers, windows, sources) is in --json and `costcalc models NAME`.

    \b
    Examples:
      costcalc models
      costcalc models gemini-4
      costcalc models gemini-4-argon --as-of 2026-11-20 --json
      costcalc models --status deprecated
      costcalc models --tables my-models.toml
    """
    from ..output.report import model_detail, model_row, models_table

    tables = load(table_files)
    listed = _matching(tables, pattern)
    if status:
        listed = [model for model in listed if model.lifecycle.status(tables.as_of) == status]
    if output:
        write_rows([model_row(model, tables) for model in listed], output)
    elif pattern and len(listed) == 1 and pattern.strip().lower() in listed[0].names:
        click.echo(model_detail(listed[0], tables))
    else:
        click.echo(models_table(listed, tables))
    click.echo(freshness(tables), err=True) if not output else None


def _matching(tables, pattern):
    """The models whose name contains `pattern` (or matches it as a glob); all when None; an exact name first."""
    if not pattern:
        return tables.models()
    from fnmatch import fnmatchcase

    wanted = pattern.strip().lower()
    models = tables.models()
    exact = [model for model in models if model.name == wanted]
    if exact:
        return exact
    if any(c in wanted for c in "*?["):
        return [model for model in models if fnmatchcase(model.name, wanted)]
    found = [model for model in models if wanted in model.name]
    if not found:
        try:
            return [tables.model(wanted)]  # an alias or snapshot of a row
        except KeyError:
            raise ArgumentError(f"models {pattern}: no model name contains it") from None
    return found


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
    from ..catalog.limits import limit_editions, limit_vendors, load_limits, size_limits
    from ..output.report import render_table

    editions = [
        load_limits(edition, vendor=vendor).rules
        for vendor in limit_vendors()
        for edition in limit_editions(vendor=vendor)
    ]
    listed = [rule for edition in editions for rule in edition.values()] + size_limits()  # the model rules' own
    if output:
        write_rows(
            [
                vars(rule) | {"value": list(rule.value) if isinstance(rule.value, tuple) else rule.value}
                for rule in listed
            ],
            output,
        )
        return
    body = [[r.vendor, r.edition, r.scope, r.rule, _shown(r.value), r.source] for r in listed]
    click.echo(render_table([["vendor", "edition", "scope", "rule", "value", "source"]], body, right=set()))
    click.echo("\nVendors not listed have no input rules on file: what they refuse is unknown, not borrowed.")


def _shown(value) -> str:
    """A rule's value for people: allowed/rejected, a count with separators, or a list."""
    if isinstance(value, bool):
        return "allowed" if value else "rejected"
    if isinstance(value, int):
        return f"{value:,}"
    return ", ".join(value)
