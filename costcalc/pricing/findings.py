"""The request-level limits of a model's vendor that a payload breaks: image count, payload and image bytes."""

from __future__ import annotations

from ..catalog.limits import DEFAULT_VENDOR, Finding, Limits
from .parts import RequestImage

__all__ = ["request_findings", "cite_limit"]


def request_findings(rules: Limits, images: list[RequestImage], size: int) -> tuple[Finding, ...]:
    """The request-level limits of the model's vendor that the payload breaks (limits.toml, which cites each)."""
    findings = []
    count = rules.rules.get("max_images")
    if count is not None and len(images) > count.value:
        findings.append(
            Finding(
                "max_images",
                f"{len(images):,} images, over the {count.value:,} allowed per request [{cite_limit(count)}]",
            )
        )
    total = rules.rules.get("max_request_bytes")
    if total is not None and size > total.value:
        findings.append(
            Finding(
                "max_request_bytes",
                f"payload of {size:,} bytes, over the {total.value:,} allowed [{cite_limit(total)}]",
            )
        )
    image_total = rules.rules.get("max_request_image_bytes")
    image_bytes = sum(image.bytes or 0 for image in images)
    if image_total is not None and image_bytes > image_total.value:
        findings.append(
            Finding(
                "max_request_image_bytes",
                f"{image_bytes:,} bytes of images, over the {image_total.value:,} allowed [{cite_limit(image_total)}]",
            )
        )
    many = rules.rules.get("max_images_side")
    if many is not None and len(images) > many.value["above"]:
        side = many.value["side"]
        big = [image for image in images if image.width and max(image.width, image.height) > side]
        if big:
            named = ", ".join(f"{image.where} ({image.width}×{image.height})" for image in big[:3])
            more = f" and {len(big) - 3:,} more" if len(big) > 3 else ""
            findings.append(
                Finding(
                    "max_images_side",
                    f"{len(images):,} images, over {many.value['above']}, so every "
                    f"image must fit {side:,}×{side:,} px: {named}{more} do not "
                    f"[{cite_limit(many)}]",
                )
            )
    return tuple(findings)


def cite_limit(limit) -> str:
    """`limits EDITION` naming the vendor too when it is not the default's."""
    return f"limits {limit.edition}" if limit.vendor == DEFAULT_VENDOR else f"limits {limit.vendor} {limit.edition}"
