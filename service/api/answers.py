"""The success answer of a view that returns a plain dict, for the OpenAPI document."""
from __future__ import annotations

OBJECT = {"type": "object", "additionalProperties": True}


def answered(status: int, text: str) -> dict:
    """``@blp.doc(**answered(200, "..."))``: the status and what the answer is."""
    return {"responses": {str(status): {"description": text,
                                        "content": {"application/json": {"schema": OBJECT}}}}}
