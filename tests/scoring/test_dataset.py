import pytest

from scoring.catalog import SPECS
from scoring.dataset import read_csv
from scoring.synthetic import generate
from scoring.training import train
from service.errors import ValidationFailed

NAME = "return_abuse_risk"
SCHEMA = SPECS[NAME].schema


def test_csv_round_trip_keeps_the_data_hash_and_trains(tmp_path):
    data = generate(NAME, 3000, 5)
    path = tmp_path / "history.csv"
    data.write_csv(path, SCHEMA)
    back = read_csv(path, NAME, SCHEMA)
    assert back.sha256(SCHEMA) == data.sha256(SCHEMA)
    assert train(SPECS[NAME], back, rounds=20).data_sha256 == data.sha256(SCHEMA)


def _rewrite(path, column, row, value):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("column, value, why", [
    ("value", "lots", "expected a number"),
    ("returns_last_90d", "2.5", "expected an integer"),
    ("receipt_present", "maybe", "expected a boolean"),
    ("condition", "pristine", "must be one of"),
    ("customer_return_rate", "1.5", "outside"),
    ("label", "yes", "expected 0 or 1"),
    ("at", "yesterday", "ISO"),
])
def test_a_bad_cell_is_reported_with_its_column_and_row(tmp_path, column, value, why):
    path = tmp_path / "history.csv"
    generate(NAME, 50, 5).write_csv(path, SCHEMA)
    _rewrite(path, column, 7, value)
    with pytest.raises(ValidationFailed) as err:
        read_csv(path, NAME, SCHEMA)
    assert err.value.extra == {"column": column, "row": 7}
    assert f"column '{column}', row 7" in err.value.detail and why in err.value.detail


def test_a_missing_column_is_named(tmp_path):
    path = tmp_path / "history.csv"
    generate(NAME, 20, 5).write_csv(path, SCHEMA)
    lines = path.read_text().splitlines()
    drop = lines[0].split(",").index("channel")
    path.write_text("\n".join(",".join(c for i, c in enumerate(l.split(",")) if i != drop)
                              for l in lines))
    with pytest.raises(ValidationFailed, match="column 'channel' is missing") as err:
        read_csv(path, NAME, SCHEMA)
    assert err.value.extra["column"] == "channel"
