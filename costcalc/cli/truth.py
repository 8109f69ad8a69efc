"""`costcalc reconcile` and `costcalc probe`: checking the rules against the vendors' own counts and bills."""

from __future__ import annotations

import sys

import click

from ..errors import CostcalcError
from .app import ArgumentError, ExitCode, Failure, cli
from .common import resolve_models
from .options import detail_option, load, model_option, output_options, tables_option

DATA_FOLDER = ":data-folder:"
"""--write given without FILE (a name no file is given as: `--write ./:data-folder:` still names a file): the
row goes into the user's data folder (catalog/userdata.py)."""

RECONCILE_EXIT_CODES = """\b
Exit codes:
  0  every model's bills agree with the prediction (within 5%, or 1 token per image)
  1  some model cannot be judged (nothing reconciled, or text and image tokens not separable), none disagrees
  2  a file that cannot be read (names the file and line), bad arguments
  4  some model's bills are 5% or more away from the prediction
  130  interrupted (Ctrl-C)
Lines that cannot be joined, billed or priced are skipped with the reason (on stderr)."""


@cli.command(epilog=RECONCILE_EXIT_CODES)
@click.argument("files", nargs=-1, required=True, metavar="LOG | BATCH_INPUT BATCH_OUTPUT")
@model_option(
    "Predict for this model instead of the one each request names.", multiple=False, required=False, env=False
)
@output_options(
    "json",
    help={
        "json": 'One JSON document: {"models": {MODEL: {requests, predicted_image_tokens, '
        "billed_image_tokens, ratio, agrees, ...}}}."
    },
)
@tables_option
def reconcile(files, model, output, table_files):
    """Check the API's bills against the predicted image tokens, per model.

    LOG is JSON lines of {"request": PAYLOAD, "response": ANSWER} ("-" reads
    standard input); or give an OpenAI Batch input file and its output file,
    joined by custom_id. Image tokens billed come from each answer's usage:
    as reported (Gemini's IMAGE modality), or the prompt tokens less the
    request's text — counted, or fitted per model as a per-request framing.

    \b
    Examples:
      costcalc reconcile calls.jsonl
      costcalc reconcile batch-input.jsonl batch-output.jsonl --json
    """
    from ..output.reconcile import reconcile_table
    from ..output.report import json_text
    from ..truth.reconcile import reconcile as reconcile_files

    if len(files) > 2:
        raise ArgumentError(f"give one LOG, or BATCH_INPUT and BATCH_OUTPUT; got {len(files)} files")
    tables = load(table_files)
    if model is not None:
        model = resolve_models(tables, [model])[0]
    try:
        result = reconcile_files(*files, model=model, tables=tables)
    except CostcalcError as error:
        raise ArgumentError(str(error)) from None
    click.echo(json_text(result.as_dict(), indent=2) if output == "json" else reconcile_table(result))
    shown = 20
    for entry in result.skipped[:shown]:
        click.echo(f"skipped: {entry.where}: {entry.reason}", err=True)
    if len(result.skipped) > shown:
        click.echo(f"skipped: ... and {len(result.skipped) - shown} more", err=True)
    sys.exit({True: ExitCode.OK, None: ExitCode.UNPRICED, False: ExitCode.DISAGREES}[result.agrees])


PROBE_EXIT_CODES = """\b
Exit codes:
  0  the rule was measured, and agrees with the table (or the table does not know the model)
  1  the answers fit no rule (the measurements are shown), or the endpoint failed (HTTP error, unreachable)
  2  bad arguments: no API key in the environment, an unknown model without --api, a detail the API lacks,
     an --api other than the table's for the model, a --base-url that is not an http(s) URL with a host and
     a valid port, a --write FILE that is empty or already exists (nothing is ever replaced)
  4  the rule was measured, and disagrees with the table
  130  interrupted (Ctrl-C)"""


@cli.command(epilog=PROBE_EXIT_CODES)
@model_option("The model to measure.", multiple=False, env=False)
@click.option(
    "--api",
    type=click.Choice(["openai", "anthropic", "gemini"]),
    help="The vendor API to probe (needed only for a model the table does not know).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="The API's base URL, as its SDK takes it (default: the vendor's "
    "own: https://api.openai.com/v1, https://api.anthropic.com, https://generativelanguage.googleapis.com).",
)
@detail_option("The detail level (Gemini: media resolution) to measure.")
@click.option(
    "--write",
    "row_file",
    type=click.Path(path_type=str),
    metavar="[FILE]",  # checked by check_row_file
    is_flag=False,
    flag_value=DATA_FOLDER,
    help="Write the measured rule as a model-table row: to FILE (load it with --tables FILE), or with no "
    "FILE into your data folder, which every command reads (`costcalc tables status`).",
)
@output_options("json", help={"json": "One JSON document: fitted and table parameters, verdict, measurements."})
@tables_option
def probe(model, api, base_url, detail, row_file, output, table_files):
    """Measure a model's image-token rule at the vendor's free token-counting endpoint.

    Sends synthetic images of chosen sizes, each counted against the same
    request without it, with your key from OPENAI_API_KEY, ANTHROPIC_API_KEY
    or GEMINI_API_KEY (GOOGLE_API_KEY); fits the scheme's parameters (tile:
    base, tile; patch: multiplier, pixel limit, budget; Claude: max edge, max
    tokens), checks the fit on sizes it was not fitted on, and prints it
    beside the table's rule. Counting tokens is free; it takes 10 to 40 requests.

    \b
    Examples:
      costcalc probe -m gpt-6-sol
      costcalc probe -m gpt-6-sol -d high --write gpt-6-sol.toml
      costcalc probe -m my-model --api openai --base-url http://localhost:8000/v1 --json
    """
    from ..errors import ProbeError, ProbeUsageError
    from ..output.probe import probe_report
    from ..output.report import json_text
    from ..truth.probe import probe as run_probe

    tables = load(table_files)
    api, key = _probe_arguments(model, api, base_url, row_file, tables)
    try:
        result = run_probe(model, api=api, base_url=base_url, detail=detail, key=key, tables=tables)
    except ProbeUsageError as error:
        raise ArgumentError(str(error)) from None
    except ProbeError as error:
        measured = getattr(error, "result", None)
        if output == "json" and measured is not None:  # --json: a document even when the endpoint fails
            click.echo(json_text(measured.as_dict(), indent=2))
        raise Failure(str(error)) from None
    click.echo(json_text(result.as_dict(), indent=2) if output == "json" else probe_report(result))
    _write_row(row_file, result)
    sys.exit(ExitCode.UNPRICED if not result.ok else ExitCode.DISAGREES if result.agrees is False else ExitCode.OK)


def _probe_arguments(model, api, base_url, row_file, tables):
    """Every argument checked before the first request: the API to probe and the key for it."""
    from ..errors import ProbeUsageError, UnknownModelError
    from ..truth.probe import check_base_url, check_row_file, key_for, resolve_api

    try:
        if base_url is not None:
            check_base_url(base_url)
        if row_file is not None and row_file != DATA_FOLDER:
            check_row_file(row_file)
    except ProbeUsageError as error:
        raise ArgumentError(str(error)) from None
    try:
        api, _ = resolve_api(model, api, tables)
    except UnknownModelError as error:
        raise ArgumentError(
            f"--model {model}: {error}; give --api openai|anthropic|gemini to probe a model the table does not know"
        ) from None
    except ProbeUsageError as error:
        raise ArgumentError(f"--model {model}: {error}") from None
    key, names = key_for(api)
    if key is None:
        raise ArgumentError(f"probe needs your {api} API key: set {' or '.join(names)}")
    return api, key


def _write_row(row_file, result) -> None:
    """--write FILE: the measured rule as a table row, when one fits (never over an existing file)."""
    from ..errors import ProbeUsageError
    from ..truth.probe import row_toml, write_row

    into_data = row_file == DATA_FOLDER
    if into_data and result.ok:
        from ..catalog.tables import forget_data
        from ..catalog.userdata import new_model_file

        row_file = str(new_model_file(result.model))
    if row_file and result.ok:
        try:
            write_row(row_file, row_toml(result))
        except ProbeUsageError as error:  # made meanwhile
            raise ArgumentError(str(error)) from None
        except OSError as error:
            raise Failure(f"--write {row_file}: {error.strerror or error}") from None
        if into_data:
            forget_data()
            click.echo(f"wrote {row_file}: every command reads it from now on (`costcalc tables status`)", err=True)
        else:
            click.echo(f"wrote {row_file}: load it with --tables {row_file}", err=True)
    elif into_data:
        click.echo("--write: not written, no rule fits the answers", err=True)
    elif row_file:
        click.echo(f"--write {row_file}: not written, no rule fits the answers", err=True)
