"""TreeSHAP contributions of one row, through XGBoost's C API.

Case intake scores one row at a time. For one row, ``Booster.predict(DMatrix(row),
pred_contribs=True)`` spent more time in the Python wrapper (building the array interface,
checking arguments, setting up and reading back the result) than XGBoost spent computing: about
0.65 ms against 0.4 ms here for the same two C calls made directly. The calls are XGBoost's
documented C API (``XGDMatrixCreateFromDense``, ``XGBoosterPredictFromDMatrix``,
``XGDMatrixFree``), on the library the ``xgboost`` package loaded; the values are the same
floats the wrapper returns (``tests/scoring/test_contributions.py`` compares them on every
shipped model).

When the installed ``xgboost`` does not expose that library as expected, :data:`AVAILABLE` is
false and the caller uses the wrapper.
"""
from __future__ import annotations

import ctypes
import json

import numpy as np
import xgboost as xgb

try:
    from xgboost.core import _LIB, _check_call
    AVAILABLE = all(hasattr(_LIB, name) for name in (
        "XGDMatrixCreateFromDense", "XGBoosterPredictFromDMatrix", "XGDMatrixFree"))
except ImportError:                          # a future layout of the package: use the wrapper
    AVAILABLE = False

_MATRIX_CONFIG = json.dumps({"missing": float("nan"), "nthread": 1}).encode()
# type 2: feature contributions (TreeSHAP), as ``predict(pred_contribs=True)`` asks for.
_PREDICT_CONFIG = json.dumps({"type": 2, "training": False, "iteration_begin": 0,
                              "iteration_end": 0, "strict_shape": False}).encode()


def of_row(booster: xgb.Booster, row: np.ndarray) -> np.ndarray:
    """The contributions of the one row ``row`` (features, then the bias last), as float32.

    Not safe to call concurrently on one booster (neither is ``Booster.predict``): the caller
    holds the model's lock.
    """
    data = np.ascontiguousarray(row, dtype=np.float32)
    if data.ndim != 2 or data.shape[0] != 1:
        raise ValueError(f"one row expected, got shape {data.shape}")
    interface = json.dumps({"data": [data.ctypes.data, True], "shape": list(data.shape),
                            "strides": None, "typestr": "<f4", "version": 3}).encode()
    matrix = ctypes.c_void_p()
    _check_call(_LIB.XGDMatrixCreateFromDense(interface, _MATRIX_CONFIG, ctypes.byref(matrix)))
    try:
        shape = ctypes.POINTER(ctypes.c_uint64)()
        dims = ctypes.c_uint64()
        values = ctypes.POINTER(ctypes.c_float)()
        _check_call(_LIB.XGBoosterPredictFromDMatrix(
            booster.handle, matrix, _PREDICT_CONFIG, ctypes.byref(shape), ctypes.byref(dims),
            ctypes.byref(values)))
        size = 1
        for i in range(dims.value):
            size *= shape[i]
        # The result lives in the booster's buffer until its next prediction: copied out.
        return np.ctypeslib.as_array(values, (size,)).copy()
    finally:
        _check_call(_LIB.XGDMatrixFree(matrix))


__all__ = ["AVAILABLE", "of_row"]
