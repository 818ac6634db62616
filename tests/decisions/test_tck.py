"""The DMN TCK compliance level 2 runs through the runner API and passes completely."""
from pathlib import Path

import pytest

from bench.tck import TCK_ROOT, run_level, same

LEVEL_2 = Path(TCK_ROOT) / "compliance-level-2"


@pytest.mark.skipif(not LEVEL_2.is_dir(), reason="DMN TCK not available")
def test_level_2_all_pass():
    report = run_level(LEVEL_2)
    assert report.total == 116
    assert [f"{o.folder} #{o.case_id}: {o.detail}" for o in report.failures] == []


def test_numbers_compare_numerically():
    from decimal import Decimal
    assert same(Decimal("1.0"), Decimal("1"))
    assert not same(Decimal("1"), "1")
    assert same({"a": [Decimal(1), None]}, {"a": [Decimal("1.00"), None]})
