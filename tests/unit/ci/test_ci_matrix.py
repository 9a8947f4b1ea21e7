"""Cells -> CI jobs: keys, operating systems, shards, recorded durations."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_pipeline.ci import matrix
from pytest_pipeline.errors import PipelineError


def cells(*names: str) -> list[dict[str, object]]:
    return [{"name": name} for name in names]


def test_job_keys_are_safe_and_unique_case_insensitively() -> None:
    jobs = matrix.jobs(
        [{"name": "py312/django:5"}, {"name": "py312-django_5"}, {"name": "Py312-Django_5"}, {"name": "..."}]
    )
    keys = [job.key for job in jobs]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", key) for key in keys)
    assert len({key.lower() for key in keys}) == len(keys)
    assert keys[0] == "py312_django_5"
    assert keys[3] == "cell"
    assert [job.cell for job in jobs] == ["py312/django:5", "py312-django_5", "Py312-Django_5", "..."]


def test_jobs_accept_plain_names_and_default_python_and_os() -> None:
    [job] = matrix.jobs(["py"])
    assert (job.cell, job.python, job.os, job.key) == ("py", matrix.DEFAULT_PYTHON, matrix.DEFAULT_OS, "py")


def test_a_cell_without_a_name_is_an_error() -> None:
    with pytest.raises(PipelineError, match=r"plan cell #2 has no 'name'"):
        matrix.jobs([{"name": "a"}, {"python": "3.12"}])


def test_with_os_multiplies_cells_and_keys_stay_unique() -> None:
    planned = matrix.with_os(cells("a", "b"), ["ubuntu-latest", "windows-latest", "ubuntu-latest"])
    assert [(c["name"], c["os"]) for c in planned] == [
        ("a@ubuntu-latest", "ubuntu-latest"),
        ("a@windows-latest", "windows-latest"),
        ("b@ubuntu-latest", "ubuntu-latest"),
        ("b@windows-latest", "windows-latest"),
    ]
    keys = [job.key for job in matrix.jobs(planned)]
    assert keys == ["a-ubuntu-latest", "a-windows-latest", "b-ubuntu-latest", "b-windows-latest"]
    assert matrix.with_os(cells("a"), []) == [{"name": "a"}]


@pytest.mark.parametrize(("text", "expected"), [("1/1", (1, 1)), ("2/5", (2, 5)), (" 3 / 4 ", (3, 4))])
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert matrix.parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "a/b", "1", "-1/2", "1/2/3"])
def test_parse_shard_rejects(text: str) -> None:
    with pytest.raises(PipelineError, match="--shard"):
        matrix.parse_shard(text)


def test_even_shards_deal_cells_in_turn() -> None:
    planned = cells("a", "b", "c", "d", "e")
    shards = [[c["name"] for c in matrix.shard(planned, i, 3)] for i in (1, 2, 3)]
    assert shards == [["a", "d"], ["b", "e"], ["c"]]


def test_shards_by_duration_balance_the_load() -> None:
    planned = cells("a", "b", "c", "d", "e", "f")
    durations = {"a": 10.0, "b": 9.0, "c": 8.0, "d": 3.0, "e": 2.0, "f": 1.0}
    shards = [[c["name"] for c in matrix.shard(planned, i, 2, durations)] for i in (1, 2)]
    loads = [sum(durations[n] for n in shard) for shard in shards]
    # LPT: a->1, b->2, c->2 (9 < 10), d->1, e->1 (13 vs 17), f->1 (15 vs 17)
    assert shards == [["a", "d", "e", "f"], ["b", "c"]]
    assert loads == [16.0, 17.0]


def test_cells_without_a_duration_count_as_the_mean() -> None:
    planned = cells("slow", "new1", "new2")
    shards = [[c["name"] for c in matrix.shard(planned, i, 2, {"slow": 10.0})] for i in (1, 2)]
    # Unknown cells weigh the mean of the known (10): slow->1, new1->2, then the loads tie
    # (10, 10) and new2 goes to shard 1. Were they weighed 0, new2 would join new1.
    assert shards == [["slow", "new2"], ["new1"]]


@given(
    names=st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=0, max_size=30, unique=True),
    total=st.integers(1, 7),
    with_durations=st.booleans(),
    data=st.data(),
)
def test_shards_partition_the_plan_in_plan_order(
    names: list[str], total: int, with_durations: bool, data: st.DataObject
) -> None:
    planned = cells(*names)
    durations = None
    if with_durations and names:
        picked = data.draw(st.lists(st.sampled_from(names), unique=True))
        durations = {n: data.draw(st.floats(0, 1000)) for n in picked}
    shards = [[c["name"] for c in matrix.shard(planned, i, total, durations)] for i in range(1, total + 1)]
    flat = [n for shard in shards for n in shard]
    assert sorted(flat) == sorted(names), "every cell in exactly one shard"
    for shard in shards:
        assert shard == [n for n in names if n in shard], "plan order kept"
    again = [[c["name"] for c in matrix.shard(planned, i, total, durations)] for i in range(1, total + 1)]
    assert again == shards, "deterministic"
    if durations is None:
        sizes = [len(s) for s in shards]
        assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(
    "record",
    [
        # run.json: each cell's wall time
        {"version": 1, "cells": [{"name": "a", "duration": 3.5}, {"name": "b", "duration": 1}]},
        # gate.json: its cells list has no durations; its counts hold each cell's test time
        {
            "cells": [{"name": "a", "status": "passed", "reported": True, "required": True}],
            "counts": {"cells": {"a": {"tests": 2, "time": 3.5}, "b": {"tests": 1, "time": 1}}},
        },
    ],
)
def test_durations_from_records(record: dict[str, object]) -> None:
    assert matrix.durations_from_record(record) == {"a": 3.5, "b": 1.0}


def test_a_cells_wall_time_wins_over_its_test_time() -> None:
    record = {"cells": [{"name": "a", "duration": 9.0}], "counts": {"cells": {"a": {"time": 2.0}}}}
    assert matrix.durations_from_record(record) == {"a": 9.0}


def test_a_reused_cells_look_up_time_is_no_duration() -> None:
    reused = {"name": "a", "duration": 0.05, "reused_from": {"run": "r1"}}
    assert matrix.durations_from_record({"cells": [reused, {"name": "b", "duration": 4.0}]}) == {"b": 4.0}
    # gate.json's test time of a reused cell is its tests' (the stored JUnit's): kept
    record = {"cells": [reused], "counts": {"cells": {"a": {"time": 3.0}}}}
    assert matrix.durations_from_record(record) == {"a": 3.0}


def test_durations_ignore_what_they_do_not_understand() -> None:
    record = {"cells": [{"name": "a", "duration": True}, {"name": "b"}, "junk", {"duration": 3}]}
    assert matrix.durations_from_record(record) == {}
    assert matrix.durations_from_record({"counts": {"cells": {"a": {"time": "1"}, "b": 2}}}) == {}
    assert matrix.durations_from_record([1, 2]) == {}


def test_read_durations_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "gate.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"gate\.json: is not JSON"):
        matrix.read_durations(broken)
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"cells": []}), encoding="utf-8")
    with pytest.raises(PipelineError, match="records no per-cell durations"):
        matrix.read_durations(empty)
    with pytest.raises(PipelineError, match="cannot be read"):
        matrix.read_durations(tmp_path / "missing.json")
