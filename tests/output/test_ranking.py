"""estimate and audit rank the models by USD for the input set, cheapest first (issue 20).

Expected order from the published prices and counts of samples/photo.jpg (2560 × 1669): gpt-4o 1,105 tokens at
$2.50 / 1M = $0.0027625; claude-sonnet-4-6 1,568 at $3 / 1M = $0.004704; gemini-3-flash-preview at most 1,120 at
$0.50 / 1M = $0.00056.
"""

from pathlib import Path

from click.testing import CliRunner

from costcalc.cli import cli

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
MODELS = ["-m", "claude-sonnet-4-6", "-m", "gpt-4o", "-m", "gemini-3-flash-preview"]


def test_estimate_ranks_the_models_cheapest_first():
    result = CliRunner().invoke(cli, ["estimate", str(SAMPLES / "photo.jpg"), *MODELS])
    line = next(line for line in result.output.splitlines() if line.startswith("cheapest first"))
    assert line == (
        "cheapest first for this image: gemini-3-flash-preview $0.00056, gpt-4o $0.0027625, claude-sonnet-4-6 $0.004704"
    )


def test_an_unpriced_model_comes_last():
    result = CliRunner().invoke(cli, ["estimate", str(SAMPLES / "banner.gif"), str(SAMPLES / "photo.jpg"), *MODELS])
    line = next(line for line in result.output.splitlines() if line.startswith("cheapest first"))
    # banner.gif is animated: OpenAI and Google refuse it, Claude prices it; the unknown keep the order given
    assert line.endswith(
        "claude-sonnet-4-6 $0.004857, gpt-4o unknown, gemini-3-flash-preview unknown"
    )  # in the order given


def test_audit_totals_are_ranked_cheapest_first():
    result = CliRunner().invoke(cli, ["audit", str(SAMPLES / "photo.jpg"), *MODELS, "--summary"])
    names = [line.split()[0] for line in result.output.splitlines()[1:4]]
    assert names == ["gemini-3-flash-preview", "gpt-4o", "claude-sonnet-4-6"]
    assert "cheapest first for these files: gemini-3-flash-preview $0.00056, gpt-4o $0.0027625, " in result.output
