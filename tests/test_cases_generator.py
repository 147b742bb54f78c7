"""The synthetic case extracts: reproducible byte for byte, realistic, with deltas that correct."""

import csv
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from orchestration.sample_data.cases import CHUNK, write_case_extracts
from orchestration.sources.pseudonyms import normalise_cpr

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds" / "cases"


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    return write_case_extracts(tmp_path_factory.mktemp("cases"), 5000, 2016)


def test_the_committed_sample_is_what_the_generator_writes(generated):
    # `barometer generate-cases --citizens 5000 --seed 2016 --out seeds/cases`
    committed = sorted(SEEDS.glob("*.csv"))
    assert sorted(p.name for p in generated) == [p.name for p in committed]
    for path in generated:
        assert path.read_bytes() == (SEEDS / path.name).read_bytes(), path.name


def test_the_seed_decides_everything(tmp_path):
    first = write_case_extracts(tmp_path / "a", 300, 7, deltas=1)
    again = write_case_extracts(tmp_path / "b", 300, 7, deltas=1)
    other = write_case_extracts(tmp_path / "c", 300, 8, deltas=1)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]


def test_cpr_numbers_are_real_dates_unique_across_chunks_and_sometimes_undashed(tmp_path):
    paths = write_case_extracts(tmp_path, 2 * CHUNK + 500, 3, deltas=1)
    citizens = rows(paths[0])
    written = [c["cpr"] for c in citizens]
    digits = [normalise_cpr(cpr) for cpr in written]  # raises for an invalid one
    assert len(set(digits)) == len(digits)
    assert 0.05 < sum("-" not in cpr for cpr in written) / len(written) < 0.2
    assert all(d[:6] == c["foedselsdato"][8:10] + c["foedselsdato"][5:7] + c["foedselsdato"][2:4]
               for d, c in zip(digits, citizens, strict=True))  # fmt: skip


def test_deltas_hold_new_late_corrected_and_cancelled_events(generated):
    events = {p.name: rows(p) for p in generated if p.name.startswith("events_")}
    nights = sorted(events)
    seen = {e["event_id"] for e in events[nights[0]]}
    for name in nights[1:]:
        night = f"{name[7:11]}-{name[11:13]}-{name[13:15]}"
        delta = events[name]
        assert 0 < len(delta) < len(events[nights[0]]) / 100, "a delta holds only the changes"
        assert any(e["erstatter_event_id"] in seen for e in delta), f"{name}: no correction"
        assert any(e["annulleret"] == "1" and e["event_id"] in seen for e in delta), (
            f"{name}: no cancellation"
        )
        late = str(date.fromisoformat(night) - timedelta(days=3))
        assert any(e["dato"] <= late and e["event_id"] not in seen and not e["erstatter_event_id"]
                   for e in delta), f"{name}: no late event"  # fmt: skip
        seen |= {e["event_id"] for e in delta}


def test_arrival_waves_and_programmes_look_like_copenhagen(generated):
    citizens = rows(generated[0])
    cohorts = Counter(int(c["ankomstdato"][:4]) for c in citizens)
    assert cohorts.most_common(1)[0][0] == 2022  # the Ukrainian wave
    assert cohorts[2015] > cohorts[2013] and cohorts[2016] > cohorts[2019]  # 2015-2016
    programmes = Counter((c["program"], c["ankomstdato"] >= "2019-07-01") for c in citizens)
    assert programmes[("integrationsprogram", True)] == 0  # renamed on 1 July 2019
    assert programmes[("selvforsoergelses_og_hjemrejseprogram", False)] == 0
    ukrainians = [c for c in citizens if c["program"] == "saerlov_ukraine"]
    assert min(c["ankomstdato"] for c in ukrainians) >= "2022-03-01"
    assert {c["statsborgerskab"] for c in ukrainians} == {"Ukraine"}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c["foedselsdato"]) for c in citizens)
