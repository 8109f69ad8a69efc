"""A made-up vendor shape, defined outside costcalc as a plug-in would: payloads of the form
`{"model": ..., "toy_prompt": [{"toy_picture": {"b64": "<base64>", "fidelity": "low"}}, ...]}`.

Used by tests/vendors/test_shapes.py to show that a new payload shape is one module and one register() call.
"""

from costcalc.vendors import ImageRef, Shape
from costcalc.vendors.base import need_text, where_of


def _root(walk, document, path, inside):
    for i, item in enumerate(document["toy_prompt"]):
        if isinstance(item, dict) and "toy_picture" in item:
            picture = item["toy_picture"]
            at = ("toy_prompt", i, "toy_picture", "b64")
            detail, detail_where, error = walk.detail_of(picture.get("fidelity"), where_of(("toy_prompt", i)))
            yield ImageRef(
                ("toy_prompt", i),
                "base64",
                picture.get("b64"),
                detail,
                detail_where,
                data_path=at,
                error=error or need_text(picture.get("b64"), where_of(at)),
            )


SHAPE = Shape(name="toy", roots=(("toy_prompt", _root, 5),))
