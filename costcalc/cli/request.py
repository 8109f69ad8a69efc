"""`costcalc request`: a request payload (or a batch file or log of many) priced before it is sent."""

from __future__ import annotations

import os
import sys

import click

from ..errors import CostcalcError
from ..words import escape
from .app import ArgumentError, ExitCode, cli
from .common import budget_document, parse_size, resolve_models, write_rows
from .options import (
    budget_options,
    freshness,
    given_tier,
    limits_option,
    load,
    model_option,
    output_options,
    strict_option,
    tables_option,
    tier_option,
)
from .words import flag_words, line_words

EXIT_CODES = """\b
Exit codes:
  0  every image priced, within budget and the request limits
  1  some images or parts could not be priced (a PDF or file part, a part of unknown type: no rule prices
     them yet), or the request breaks a limit (image count, payload size);
     a batch file or log: also a request that could not be read or priced, or a batch limit broken
  2  bad payload or arguments (not JSON, no messages/input/contents, unknown model,
     a --tier the model lacks: a batch file's too, before any line is priced)
  4  over budget (--max-tokens / --max-usd; a batch file: its totals; unpriced images or an unknown price fail it)
  5  over budget, and some images unpriced or a limit broken
  130  interrupted (Ctrl-C)"""


@cli.command(epilog=EXIT_CODES)
@click.argument("payload", type=click.File("rb"), metavar="FILE|-")
@model_option(
    "Price for this model instead of the payload's (a Gemini body names none: give it here).",
    multiple=False,
    required=False,
    env=False,
)
@click.option("--fetch", is_flag=True, help="Read the headers of http(s) image URLs (off by default: no network).")
@click.option(
    "--allow-private",
    is_flag=True,
    help="With --fetch, also fetch from loopback, private and link-local addresses (refused by default).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds per remote URL, redirects included.",
)
@click.option(
    "--file-size",
    "file_sizes",
    multiple=True,
    metavar="ID=WxH",
    help="The size of an uploaded file: a file_id, Gemini file URI or S3 URI (repeatable).",
)
@limits_option("Request limits to check (`costcalc limits`).")
@budget_options("Budget: exit 4 if the images' tokens exceed N.", "Budget: exit 4 if the images' USD exceeds this.")
@tier_option
@click.option(
    "--cached-tokens",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="Input tokens read from the prompt cache: priced at the cached-input rate in the input total.",
)
@output_options(
    "json",
    "csv",
    "nl",
    help={
        "json": "One JSON document: images, totals, findings.",
        "csv": "CSV, one row per image.",
        "nl": "JSON lines, one object per image.",
    },
)
@strict_option
@tables_option
def request(payload, model, **given):
    """Price every image in a request payload, in any vendor's shape, before sending it.

    Shapes, told apart by their structure: OpenAI Chat Completions and
    Responses (also Mistral, Qwen and xAI), Anthropic Messages, Gemini
    generateContent, Bedrock Converse, legacy GPT-4V. The payload's model
    (or -m) picks the rules and the request limits. Data URLs and base64 are
    decoded only as far as their headers; paths and file:// URLs are read
    locally (relative to the payload file); http(s) URLs only with --fetch,
    header bytes only.

    FILE may also hold many requests, read a line at a time: an OpenAI Batch
    input file (JSON lines of custom_id, method, url, body), an Anthropic
    Message Batches body ({"requests": [{custom_id, params}]}) or a
    JSON-lines log of payloads: one row per request (the table shows the
    costliest), the totals at the batch tier for batch files, and the batch
    limits (requests, bytes per file) checked. A bad line is its own error row.

    \b
    Examples:
      costcalc request payload.json
      costcalc request payload.json -m gpt-5.4 --max-usd 0.05
      costcalc request batch-input.jsonl --max-usd 20 --nl
      costcalc request gemini.json -m gemini-3.1-pro-preview --file-size files/abc=1920x1080
      python make_request.py | costcalc request - --fetch --json
    """
    from ..runs.batchfile import BatchRun

    tables = load(given["table_files"])
    if model is not None:
        resolve_models(tables, [model])  # an unknown -m is one line naming it, as in every command
    name = getattr(payload, "name", "-")
    output, max_tokens, budget_usd, cached_tokens = (
        given["output"],
        given["max_tokens"],
        given["budget_usd"],
        given["cached_tokens"],
    )
    options = {
        "fetch": given["fetch"],
        "file_sizes": _file_sizes(given["file_sizes"]),
        "base_dir": os.path.dirname(os.path.abspath(name)) if name not in ("-", "<stdin>") else None,
        "tables": tables,
        "edition": given["edition"],
        "timeout": given["timeout"],
        "allow_private": given["allow_private"],
        "strict": given["strict"],
    }
    try:  # a batch file or a log is told by its structure, not its name
        run = BatchRun(payload, name=name, model=model, tier=given_tier(), **options)
        if run.kind != "payload":
            if cached_tokens:
                raise ArgumentError("--cached-tokens is one request's; a batch file or log holds many")
            _request_file(run, output, max_tokens, budget_usd, tables)
    except CostcalcError as error:
        raise ArgumentError(str(error)) from None
    _one_request(
        run,
        name,
        model,
        options | {"tier": given["tier"], "cached_tokens": cached_tokens},
        output,
        max_tokens,
        budget_usd,
    )


def _file_sizes(texts) -> dict:
    """--file-size ID=WxH, each parsed (an id or URI may hold '=' itself)."""
    sizes = {}
    for text in texts:
        file_id, _, size = text.rpartition("=")
        sizes[file_id] = parse_size(size)
    return sizes


def _one_request(run, name, model, options, output, max_tokens, budget_usd):
    """One payload: its images as a table or rows, its messages, and the exit code."""
    from ..output.report import json_text, request_table
    from ..pricing.request import budget_overruns, count_request

    try:
        estimate = count_request(run.payload(), model=model, **options)
    except CostcalcError as error:
        raise ArgumentError(f"{name}: {error}") from None
    overruns = budget_overruns(estimate, max_tokens, budget_usd)
    budget = budget_document(max_tokens, budget_usd, overruns)
    if output == "json":
        click.echo(json_text({**estimate.as_dict(), "budget": budget}, indent=2))
    elif output:
        write_rows(estimate.as_dict()["images"], output)
    else:
        click.echo(request_table(estimate, flag_words))
        click.echo(freshness(options["tables"]), err=True)
    _request_messages(estimate)
    for line in budget["over"]:
        click.echo(f"over budget: {line}", err=True)
    sys.exit(ExitCode.of(bool(estimate.unpriced or estimate.findings), bool(overruns)))


def _request_messages(estimate, place: str = "", say=None) -> None:
    """A request's image errors and warnings and its broken limits on stderr, each after `place` (a batch line's)."""
    say = say or (lambda text: click.echo(text, err=True))
    for image in estimate.images:
        if image.error:
            say(f"Error: {escape(place)}{line_words(image.error)}")
        elif image.warning:
            say(f"Warning: {escape(place)}{escape(image.where)}: {escape(image.warning)}")
    for finding in estimate.findings:
        say(f"limit: {place}{finding.message}")


def _request_file(run, output, max_tokens, budget_usd, tables):
    """`request` on a batch file or log: rows streamed, then totals, whole-file findings and the budget."""
    from ..output.batchfile import BatchWriter, batch_summary, batch_table
    from ..output.progress import Progress
    from ..runs.batchfile import batch_budget_overruns

    head = {"file": run.name, "kind": run.kind, "tier": run.tier, "tier_note": run.tier_note}
    writer = BatchWriter(output, sys.stdout, head)
    failed = False
    progress = Progress(sys.stderr.isatty() and (bool(output) or not sys.stdout.isatty()), unit="requests")
    size = run.size
    for row in run:
        writer.row(row)
        progress.add(1, run.totals.bytes / size if size else None)
        if row.error:
            progress.echo(f"Error: {line_words(row.error)}")
            failed = True
            continue
        _request_messages(row.estimate, f"{row.place(run.name)}: ", progress.echo)
        failed = failed or bool(row.estimate.unpriced or row.estimate.findings)
    progress.done()
    findings = run.findings()
    overruns = batch_budget_overruns(run.totals, max_tokens, budget_usd)
    budget = budget_document(max_tokens, budget_usd, overruns)
    writer.end(
        {
            "totals": run.totals.as_dict(),
            "findings": [{"rule": f.rule, "message": f.message} for f in findings],
            "budget": budget,
        }
    )
    summary = batch_summary(run.name, run.kind, run.tier, run.tier_note, run.totals)
    if output is None:
        click.echo(batch_table(writer.top(), writer.count) + "\n\n" + summary)
        click.echo(freshness(tables), err=True)
    elif output != "json":
        click.echo(summary, err=True)
    for finding in findings:
        click.echo(f"limit: {finding.message}", err=True)
    for line in budget["over"]:
        click.echo(f"over budget: {line}", err=True)
    sys.exit(ExitCode.of(failed or bool(findings), bool(overruns)))
