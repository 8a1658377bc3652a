"""A hypothesis fuzz of `generate`'s arguments: whatever the user types, the answer is a clean run or one line
and exit code 2, quickly, and nothing is ever written outside --output."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataset_generator.cli import cli

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
number = st.one_of(st.integers(-10**18, 10**18).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr), text)

options = st.fixed_dictionaries(
    {},
    optional={
        "--scale": number,
        "--seed": number,
        "--compression": st.one_of(st.sampled_from(["snappy", "zstd", "gzip", "none", "lz4", "brotli"]), text),
        "--compression-level": number,
        "--file-rows-target": number,
        "--row-group-rows": number,
        "--partition-by": st.one_of(st.sampled_from(["year", "year,month", "none", "day", "year,day"]), text),
        "--mode": st.one_of(st.sampled_from(["error", "overwrite", "append"]), text),
        "--workers": number,
        "--tables": st.one_of(st.just("transactions"), text),
        "--chunk-rows": number,
        "--param": st.one_of(
            st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["rows", "start_date", "end_date", "nope"]), number), text
        ),
    },
)


def _files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def _check(args: list[str], root: Path) -> None:
    before = _files(root)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code in (0, 2), (args, result.output)
    if result.exit_code:
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, (args, result.output)
    # Nothing appears anywhere but under --output.
    outside = {name for name in _files(root) - before if not name.startswith("out")}
    assert not outside, (args, outside)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options)
def test_fuzzed_dry_runs_answer_with_a_plan_or_one_line(chosen: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        args = ["generate", "transactions", "-o", str(root / "out"), "--dry-run", "-q"]
        for flag, value in chosen.items():
            args += [flag, value]
        _check(args, root)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options, st.integers(1, 3_000))
def test_fuzzed_small_runs_write_only_under_the_output(chosen: dict[str, str], rows: int) -> None:
    chosen.pop("--scale", None)  # rows below are what bounds the run's size
    if chosen.get("--param", "").startswith("rows="):
        chosen.pop("--param")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        args = ["generate", "transactions", "-o", str(root / "out"), "-q", "--param", f"rows={rows}"]
        for flag, value in chosen.items():
            args += [flag, value]
        _check(args, root)
