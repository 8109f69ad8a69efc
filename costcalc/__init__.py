"""costcalc: exactly what an image costs a vision model, in tokens and dollars, before you send it."""

from .auditor import AuditRow, Totals, audit
from .cost import MAX_SIDE, Estimate, image_tokens, image_tokens_batch
from .errors import (
    AnimatedImageError,
    BudgetExceeded,
    CostcalcError,
    ImageReadError,
    ImageRejectedError,
    InvalidImageError,
    InvalidSizeError,
    PlanError,
    RequestError,
    TableError,
    UnknownModelError,
    UnsupportedDetailError,
    UnsupportedFormatError,
)
from .estimate import estimate
from .headers import ImageInfo, inspect
from .planning import Plan, plan
from .preflight import Optimized, optimize
from .request import RequestEstimate, RequestImage, check_budget, count_request
from .video import VideoError, VideoEstimate, VideoFrame, video_estimate, video_frames
from .tables import Model, Price, Tables, default_tables, load_tables

__version__ = "0.1.0"

__all__ = [
    "MAX_SIDE",
    "VideoError",
    "VideoEstimate",
    "VideoFrame",
    "video_estimate",
    "video_frames",
    "BudgetExceeded",
    "RequestError",
    "RequestEstimate",
    "RequestImage",
    "check_budget",
    "count_request",
    "AnimatedImageError",
    "Optimized",
    "Plan",
    "PlanError",
    "optimize",
    "plan",
    "AuditRow",
    "Totals",
    "audit",
    "CostcalcError",
    "Estimate",
    "ImageInfo",
    "ImageReadError",
    "ImageRejectedError",
    "InvalidImageError",
    "InvalidSizeError",
    "Model",
    "Price",
    "TableError",
    "Tables",
    "UnknownModelError",
    "UnsupportedDetailError",
    "UnsupportedFormatError",
    "default_tables",
    "estimate",
    "get_model",
    "get_price",
    "image_tokens",
    "image_tokens_batch",
    "inspect",
    "list_models",
    "load_tables",
]


def get_model(name: str, *, tables: Tables | None = None) -> Model:
    """The model called `name` (exact, then dated snapshot); UnknownModelError lists close matches."""
    return (tables or default_tables()).model(name)


def get_price(name: str | Model, *, tables: Tables | None = None) -> Price | None:
    """The dated price of a model, or None when it is unknown."""
    return (tables or default_tables()).price(name)


def list_models(*, tables: Tables | None = None) -> list[Model]:
    """Every model name in the table, in table order."""
    return (tables or default_tables()).models()
