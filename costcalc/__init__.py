"""costcalc: exactly what an image costs a vision model, in tokens and dollars, before you send it.

Every public name is re-exported here explicitly; each is imported on first use
(PEP 562), so `import costcalc` stays cheap and a command loads only what it uses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing at start-up (benchmarks/bench_startup.py)

__version__ = "0.1.0"

# name -> module (relative to this package) that defines it; the table is the whole public API.
_EXPORTS = {
    # errors
    "AnimatedImageError": "errors",
    "BudgetExceeded": "errors",
    "CostcalcError": "errors",
    "DecodeLimitError": "errors",
    "GuardError": "errors",
    "ImageReadError": "errors",
    "ImageRejectedError": "errors",
    "InexactTokensError": "errors",
    "InvalidImageError": "errors",
    "InvalidSizeError": "errors",
    "LogReadError": "errors",
    "OutputConflictError": "errors",
    "PlanError": "errors",
    "ProbeError": "errors",
    "ProbeUsageError": "errors",
    "RequestError": "errors",
    "RetiredModelError": "errors",
    "TableError": "errors",
    "TierError": "errors",
    "UnknownModelError": "errors",
    "UnpublishedRuleError": "errors",
    "UnsupportedDetailError": "errors",
    "UnsupportedFormatError": "errors",
    "VideoError": "errors",
    # inspection
    "ImageInfo": "inspection.headers",
    "image_info": "inspection.headers",
    # pricing
    "MAX_SIDE": "pricing.cost",
    "Estimate": "pricing.cost",
    "image_tokens": "pricing.cost",
    "image_tokens_batch": "pricing.cost",
    "estimate": "pricing.estimate",
    "Model": "catalog.tables",
    "Price": "catalog.tables",
    "TIERS": "catalog.tables",
    "Tables": "catalog.tables",
    "default_tables": "catalog.tables",
    "load_tables": "catalog.tables",
    "get_model": "catalog.tables",
    "get_price": "catalog.tables",
    "list_models": "catalog.tables",
    "Settings": "catalog.settings",
    "Lifecycle": "catalog.dates",
    "Measurement": "catalog.measured",
    "measurements": "catalog.measured",
    "AuditRow": "runs.totals",
    "Totals": "runs.totals",
    "audit": "runs.audit",
    "RequestEstimate": "pricing.request",
    "RequestImage": "pricing.request",
    "check_budget": "pricing.request",
    "count_request": "pricing.request",
    "BatchEstimate": "runs.batchfile",
    "BatchRow": "runs.batchfile",
    "count_batch": "runs.batchfile",
    "VideoEstimate": "runs.video",
    "VideoFrame": "preflight.frames",
    "video_estimate": "runs.video",
    "video_frames": "preflight.frames",
    # truth (docs/probe.md)
    "ProbeResult": "truth.probe",
    "probe": "truth.probe",
    "Reconciliation": "truth.reconcile",
    "reconcile": "truth.reconcile",
    # preflight
    "Plan": "preflight.planning",
    "plan": "preflight.planning",
    "MultiPlan": "preflight.planning",
    "plan_many": "preflight.planning",
    "Optimized": "preflight.optimize",
    "optimize": "preflight.optimize",
    "optimize_paths": "preflight.tree",
    "OptimizeRow": "preflight.tree",
    # in the request path (docs/README.md)
    "guard": "guarding",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import a public name on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'costcalc' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what static tools and IDEs see
    from .catalog.dates import Lifecycle
    from .catalog.measured import Measurement, measurements
    from .catalog.settings import Settings
    from .catalog.tables import (
        TIERS,
        Model,
        Price,
        Tables,
        default_tables,
        get_model,
        get_price,
        list_models,
        load_tables,
    )
    from .errors import (
        AnimatedImageError,
        BudgetExceeded,
        CostcalcError,
        DecodeLimitError,
        GuardError,
        ImageReadError,
        ImageRejectedError,
        InexactTokensError,
        InvalidImageError,
        InvalidSizeError,
        LogReadError,
        OutputConflictError,
        PlanError,
        ProbeError,
        ProbeUsageError,
        RequestError,
        RetiredModelError,
        TableError,
        TierError,
        UnknownModelError,
        UnpublishedRuleError,
        UnsupportedDetailError,
        UnsupportedFormatError,
        VideoError,
    )
    from .guarding import guard
    from .inspection.headers import ImageInfo, image_info
    from .preflight.frames import VideoFrame, video_frames
    from .preflight.optimize import Optimized, optimize
    from .preflight.planning import MultiPlan, Plan, plan, plan_many
    from .preflight.tree import OptimizeRow, optimize_paths
    from .pricing.cost import MAX_SIDE, Estimate, image_tokens, image_tokens_batch
    from .pricing.estimate import estimate
    from .pricing.request import RequestEstimate, RequestImage, check_budget, count_request
    from .runs.audit import audit
    from .runs.batchfile import BatchEstimate, BatchRow, count_batch
    from .runs.totals import AuditRow, Totals
    from .runs.video import VideoEstimate, video_estimate
    from .truth.probe import ProbeResult, probe
    from .truth.reconcile import Reconciliation, reconcile
