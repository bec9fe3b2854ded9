"""The pricing model (`lambdatui.figures`) and `lambdatui cost`: AWS's published method and examples, the tiers,
the free tier, ephemeral storage and provisioned concurrency.

Every expected figure is worked out in a comment from the rates in `lambdatui/data/pricing.json` (us-east-1):
requests $0.20 per million; duration per GB-s x86_64 $0.0000166667 / $0.000015 / $0.0000133334 (first 6 billion GB-s,
next 9 billion, beyond 15 billion), arm64 $0.0000133334 / $0.0000120001 / $0.0000106667 (first 7.5 billion, next
11.25 billion, beyond 18.75 billion); free tier 1M requests and 400,000 GB-s a month; ephemeral storage beyond
512 MB $0.0000000309 per GB-s; provisioned concurrency x86_64 $0.0000041667 per GB-s of capacity and $0.0000097222
per GB-s of execution (arm64 $0.0000033334 and $0.0000077778).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from lambdatui.figures import (
    HOURS_PER_MONTH,
    billed_duration_ms,
    invocation_cost,
    monthly_cost,
    prices,
    tiered_duration_cost,
)


def cents(x: float) -> float:
    return round(x + 1e-9, 2)


@pytest.fixture
def cost_cli(tmp_path):
    """Run `python -m lambdatui cost ARGS` as a real subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lambdatui", "cost", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )

    return run


# --- the data file -------------------------------------------------------------------------------------------------


def test_prices_come_from_one_data_file_with_the_date_they_were_taken():
    p = prices()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", p["prices_taken"])
    assert p["region"] == "us-east-1"
    assert p["request_usd_per_million"] == 0.20
    assert p["free_tier_monthly"] == {"requests": 1_000_000, "gb_seconds": 400_000}
    assert [t["up_to_gb_seconds"] for t in p["duration_usd_per_gb_second"]["x86_64"]] == [6e9, 15e9, None]
    assert [t["up_to_gb_seconds"] for t in p["duration_usd_per_gb_second"]["arm64"]] == [7.5e9, 18.75e9, None]
    assert monthly_cost(128, 1, 1).prices_taken == p["prices_taken"]


# --- the seed's worked example -------------------------------------------------------------------------------------


def test_seed_worked_example_through_the_api():
    # 512 MB = 0.5 GB; 200 ms = 0.2 s; 1,000,000 x 0.5 x 0.2 = 100,000 GB-s
    # duration: 100,000 x $0.0000166667 = $1.66667 -> $1.67; requests: 1M x $0.20/M = $0.20; total $1.87
    cost = monthly_cost(512, 200, 1_000_000, free_tier=False)
    assert cost.gb_seconds == pytest.approx(100_000)
    assert cost.duration_usd == pytest.approx(1.66667)
    assert (cents(cost.requests_usd), cents(cost.duration_usd), cents(cost.total_usd)) == (0.20, 1.67, 1.87)
    b = cost.breakdown()
    assert b["requests"]["count"] == 1_000_000 and b["requests"]["billable"] == 1_000_000
    assert b["duration"]["billable_gb_seconds"] == pytest.approx(100_000)
    assert len(b["duration"]["tiers"]) == 1
    tier = b["duration"]["tiers"][0]
    assert (tier["tier"], tier["rate"]) == (1, 0.0000166667)
    assert tier["gb_seconds"] == pytest.approx(100_000) and tier["usd"] == pytest.approx(1.66667)
    assert b["ephemeral_storage"]["usd"] == 0 and b["provisioned_concurrency"]["usd"] == 0
    assert b["prices_taken"] == prices()["prices_taken"]


def test_seed_worked_example_through_the_cli_json(cost_cli):
    out = cost_cli("--memory", "512", "--duration-ms", "200", "--invocations", "1000000", "--no-free-tier", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"requests_usd", "duration_usd", "total_usd", "gb_seconds", "breakdown", "prices_taken"} <= set(data)
    assert data["gb_seconds"] == pytest.approx(100_000)
    assert (cents(data["requests_usd"]), cents(data["duration_usd"]), cents(data["total_usd"])) == (0.20, 1.67, 1.87)
    assert data["prices_taken"] == prices()["prices_taken"]
    b = data["breakdown"]
    assert b["requests"]["billable"] == 1_000_000 and b["free_tier"]["applied"] is False
    assert [t["tier"] for t in b["duration"]["tiers"]] == [1]
    assert b["duration"]["tiers"][0]["usd"] == pytest.approx(1.66667)


def test_seed_worked_example_through_the_cli_text(cost_cli):
    out = cost_cli("--memory", "512", "--duration-ms", "200", "--invocations", "1000000", "--no-free-tier")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert re.search(r"Requests .*1,000,000.*\$0\.20$", text, re.M)
    assert re.search(r"Duration .*100,000 GB-s.*\$1\.67$", text, re.M)
    assert re.search(r"tier 1: 100,000 GB-s x \$0\.0000166667 +\$1\.67$", text, re.M)
    assert re.search(r"Total +\$1\.87$", text, re.M)
    assert f"Prices: us-east-1, taken {prices()['prices_taken']}" in text
    assert "Storage" not in text and "Provisioned" not in text


# --- AWS's published examples --------------------------------------------------------------------------------------


def test_aws_example_3_million_requests_120_ms_1536_mb_x86():
    # AWS's Lambda pricing page, mobile application backend, x86, us-east-1:
    #   total compute = 3M x 120 ms = 360,000 s; x 1,536 MB / 1,024 = 540,000 GB-s
    #   less the free tier: 540,000 - 400,000 = 140,000 GB-s x $0.0000166667 = $2.333338 -> $2.33
    #   requests: 3M - 1M free = 2M x $0.20/M = $0.40
    #   total $2.33 + $0.40 = $2.73
    cost = monthly_cost(1536, 120, 3_000_000, "x86_64")
    assert cost.gb_seconds == pytest.approx(540_000)
    assert cost.billable_gb_seconds == pytest.approx(140_000)
    assert cost.billable_requests == 2_000_000
    assert (cents(cost.duration_usd), cents(cost.requests_usd), cents(cost.total_usd)) == (2.33, 0.40, 2.73)
    # Before the free tier: 540,000 x $0.0000166667 = $9.000018 -> $9.00; 3M x $0.20/M = $0.60; total $9.60
    gross = monthly_cost(1536, 120, 3_000_000, "x86_64", free_tier=False)
    assert (cents(gross.duration_usd), cents(gross.requests_usd), cents(gross.total_usd)) == (9.00, 0.60, 9.60)


def test_aws_example_3_million_requests_120_ms_1536_mb_on_arm64():
    # The same workload on arm64, by the same published method:
    #   540,000 GB-s - 400,000 free = 140,000 GB-s x $0.0000133334 = $1.866676 -> $1.87
    #   requests $0.40 (as above); total $2.266676 -> $2.27
    #   before the free tier: 540,000 x $0.0000133334 = $7.200036 -> $7.20; + $0.60 = $7.80
    cost = monthly_cost(1536, 120, 3_000_000, "arm64")
    assert cost.duration_usd == pytest.approx(1.866676)
    assert (cents(cost.duration_usd), cents(cost.requests_usd), cents(cost.total_usd)) == (1.87, 0.40, 2.27)
    gross = monthly_cost(1536, 120, 3_000_000, "arm64", free_tier=False)
    assert (cents(gross.duration_usd), cents(gross.total_usd)) == (7.20, 7.80)
    assert gross.tiers[0].rate == 0.0000133334


def test_aws_classic_examples_512_mb_1_s_and_128_mb_200_ms():
    # AWS's long-standing examples (published with the then-rounded rate $0.00001667 per GB-s):
    # 1) 512 MB, 3M invocations of 1 s: 3,000,000 s x 0.5 GB = 1,500,000 GB-s; - 400,000 free = 1,100,000 GB-s.
    #    Published: 1,100,000 x $0.00001667 = $18.34; with today's $0.0000166667: $18.33337 -> $18.33.
    #    Requests: 3M - 1M = 2M x $0.20/M = $0.40. Total $18.73 (published $18.74 at the rounded rate).
    one = monthly_cost(512, 1000, 3_000_000)
    assert one.gb_seconds == pytest.approx(1_500_000)
    assert one.billable_gb_seconds == pytest.approx(1_100_000)
    assert one.billable_gb_seconds * 0.00001667 == pytest.approx(18.337)  # the published arithmetic
    assert (cents(one.duration_usd), cents(one.requests_usd), cents(one.total_usd)) == (18.33, 0.40, 18.73)
    # 2) 128 MB, 30M invocations of 200 ms: 6,000,000 s x 0.125 GB = 750,000 GB-s; - 400,000 free = 350,000 GB-s
    #    x $0.0000166667 = $5.833345 -> $5.83 (published $5.83); requests 29M x $0.20/M = $5.80; total $11.63.
    two = monthly_cost(128, 200, 30_000_000)
    assert two.gb_seconds == pytest.approx(750_000)
    assert (cents(two.duration_usd), cents(two.requests_usd), cents(two.total_usd)) == (5.83, 5.80, 11.63)


def test_aws_provisioned_concurrency_example():
    # AWS's provisioned concurrency example: 1,024 MB, concurrency 1,000 enabled for 2 hours, 1.2M invocations of 1 s.
    #   capacity: 1,000 x 7,200 s x 1 GB = 7,200,000 GB-s x $0.0000041667 = $30.00024 -> $30.00
    #   execution: 1.2M x 1 s x 1 GB = 1,200,000 GB-s x $0.0000097222 = $11.66664 -> $11.67
    #   requests: 1.2M x $0.20/M = $0.24 (no free tier with provisioned concurrency)
    #   total $41.90688 -> $41.91
    cost = monthly_cost(1024, 1000, 1_200_000, provisioned_concurrency=1000, provisioned_hours=2)
    assert cost.provisioned_capacity_gb_seconds == pytest.approx(7_200_000)
    assert cost.provisioned_execution_gb_seconds == pytest.approx(1_200_000)
    assert cents(cost.provisioned_capacity_usd) == 30.00
    assert cents(cost.provisioned_execution_usd) == 11.67
    assert cents(cost.requests_usd) == 0.24
    assert cost.duration_usd == 0 and cost.tiers == ()
    assert cents(cost.total_usd) == 41.91
    assert cost.free_tier_applied is False


# --- the tiers -----------------------------------------------------------------------------------------------------


def test_x86_workload_crossing_6_billion_gb_seconds_is_priced_piecewise():
    # 10,240 MB = 10 GB x 1 s = 10 GB-s an invocation; 700M invocations = 7,000,000,000 GB-s (free tier off)
    #   tier 1: 6,000,000,000 x $0.0000166667 = $100,000.20
    #   tier 2: 1,000,000,000 x $0.000015     = $15,000.00
    #   duration $115,000.20
    cost = monthly_cost(10240, 1000, 700_000_000, "x86_64", free_tier=False)
    assert cost.gb_seconds == pytest.approx(7e9)
    rows = [(t.tier, t.gb_seconds, t.rate) for t in cost.tiers]
    assert rows == [(1, pytest.approx(6e9), 0.0000166667), (2, pytest.approx(1e9), 0.000015)]
    assert cost.tiers[0].usd == pytest.approx(100_000.20)
    assert cost.tiers[1].usd == pytest.approx(15_000.00)
    assert cost.duration_usd == pytest.approx(115_000.20)
    assert cost.duration_usd == pytest.approx(tiered_duration_cost(7e9, "x86_64"))
    # And past 15 billion: 2,000M invocations = 20,000,000,000 GB-s
    #   $100,000.20 + 9,000,000,000 x $0.000015 ($135,000) + 5,000,000,000 x $0.0000133334 ($66,667) = $301,667.20
    big = monthly_cost(10240, 1000, 2_000_000_000, "x86_64", free_tier=False)
    assert [t.tier for t in big.tiers] == [1, 2, 3]
    assert [t.gb_seconds for t in big.tiers] == [pytest.approx(6e9), pytest.approx(9e9), pytest.approx(5e9)]
    assert big.duration_usd == pytest.approx(301_667.20)


def test_arm64_workload_crossing_7_5_billion_gb_seconds_is_priced_piecewise():
    # 800M invocations x 10 GB-s = 8,000,000,000 GB-s on arm64 (free tier off)
    #   tier 1: 7,500,000,000 x $0.0000133334 = $100,000.50
    #   tier 2:   500,000,000 x $0.0000120001 = $6,000.05
    #   duration $106,000.55
    cost = monthly_cost(10240, 1000, 800_000_000, "arm64", free_tier=False)
    assert [(t.tier, t.rate) for t in cost.tiers] == [(1, 0.0000133334), (2, 0.0000120001)]
    assert [t.gb_seconds for t in cost.tiers] == [pytest.approx(7.5e9), pytest.approx(0.5e9)]
    assert cost.duration_usd == pytest.approx(106_000.55)
    # Past 18.75 billion: 20,000,000,000 GB-s
    #   $100,000.50 + 11,250,000,000 x $0.0000120001 ($135,001.125) + 1,250,000,000 x $0.0000106667 ($13,333.375)
    #   = $248,335.00
    big = monthly_cost(10240, 1000, 2_000_000_000, "arm64", free_tier=False)
    assert [t.gb_seconds for t in big.tiers] == [pytest.approx(7.5e9), pytest.approx(11.25e9), pytest.approx(1.25e9)]
    assert big.duration_usd == pytest.approx(248_335.00)


def test_exactly_at_a_tier_boundary_stays_in_the_lower_tier():
    # 600M x 10 GB-s = 6,000,000,000 GB-s exactly: all of it in tier 1, $100,000.20
    cost = monthly_cost(10240, 1000, 600_000_000, "x86_64", free_tier=False)
    assert [t.tier for t in cost.tiers] == [1]
    assert cost.duration_usd == pytest.approx(100_000.20)
    # With the free tier, 400,000 GB-s more bring the billable GB-s back to exactly 6 billion:
    # 6,000,400,000 GB-s = 600,040,000 invocations x 10 GB-s
    free = monthly_cost(10240, 1000, 600_040_000, "x86_64")
    assert free.billable_gb_seconds == pytest.approx(6e9)
    assert [t.tier for t in free.tiers] == [1]


# --- the free tier -------------------------------------------------------------------------------------------------


def test_under_the_free_tier_costs_nothing():
    # 128 MB x 100 ms x 1M = 12,500 GB-s (< 400,000) and 1M requests (= the free 1M): $0
    cost = monthly_cost(128, 100, 1_000_000)
    assert cost.total_usd == 0 and cost.requests_usd == 0 and cost.duration_usd == 0
    assert cost.tiers == () and cost.free_tier_applied
    # Exactly the free tier: 1,024 MB x 400 ms x 1M = 400,000 GB-s: still $0
    assert monthly_cost(1024, 400, 1_000_000).total_usd == 0
    # Without it: 12,500 x $0.0000166667 = $0.20833375; + $0.20 requests = $0.40833375
    off = monthly_cost(128, 100, 1_000_000, free_tier=False)
    assert off.total_usd == pytest.approx(0.40833375)
    assert off.free_tier_applied is False


def test_free_tier_is_applied_before_the_tiers_for_both_architectures():
    # 2,048 MB x 200 ms x 5M = 2 GB x 0.2 s x 5M = 2,000,000 GB-s; - 400,000 = 1,600,000 billable;
    # 5M - 1M = 4M billable requests x $0.20/M = $0.80
    #   x86: 1,600,000 x $0.0000166667 = $26.66672; arm64: 1,600,000 x $0.0000133334 = $21.33344
    for arch, duration in (("x86_64", 26.66672), ("arm64", 21.33344)):
        cost = monthly_cost(2048, 200, 5_000_000, arch)
        assert cost.billable_gb_seconds == pytest.approx(1_600_000)
        assert cost.requests_usd == pytest.approx(0.80)
        assert cost.duration_usd == pytest.approx(duration)


def test_duration_is_billed_per_invocation_rounded_up_to_the_ms():
    # 200.1 ms bills 201 ms: 1M x 0.5 GB x 0.201 s = 100,500 GB-s
    cost = monthly_cost(512, 200.1, 1_000_000, free_tier=False)
    assert cost.billed_duration_ms == billed_duration_ms(200.1, bill_init=False) == 201
    assert cost.gb_seconds == pytest.approx(100_500)
    # 0.2 ms bills 1 ms
    assert monthly_cost(1024, 0.2, 1000, free_tier=False).gb_seconds == pytest.approx(1.0)


def test_no_invocations():
    cost = monthly_cost(512, 200, 0)
    assert cost.total_usd == 0 and cost.gb_seconds == 0 and cost.tiers == ()


# --- ephemeral storage ---------------------------------------------------------------------------------------------


def test_ephemeral_storage_beyond_512_mb():
    # 10,240 MB of /tmp: 9,728 MB = 9.5 GB beyond the free 512 MB; 1M invocations of 1 s = 9,500,000 GB-s
    #   x $0.0000000309 = $0.29355
    cost = monthly_cost(1024, 1000, 1_000_000, ephemeral_storage_mb=10240, free_tier=False)
    assert cost.ephemeral_gb_seconds == pytest.approx(9_500_000)
    assert cost.ephemeral_usd == pytest.approx(0.29355)
    # Added to the total, not to the request or duration charges:
    # requests $0.20 + duration 1,000,000 GB-s x $0.0000166667 ($16.6667) + $0.29355
    assert cost.total_usd == pytest.approx(0.20 + 16.6667 + 0.29355)
    assert cost.duration_usd == pytest.approx(16.6667)
    # The default 512 MB costs nothing extra, and the free tier does not cover storage.
    assert monthly_cost(1024, 1000, 1_000_000, ephemeral_storage_mb=512).ephemeral_usd == 0
    assert monthly_cost(1024, 1000, 1_000_000, ephemeral_storage_mb=10240).ephemeral_usd == pytest.approx(0.29355)
    # One invocation agrees with invocation_cost (first tier, no free tier).
    one = monthly_cost(1024, 1000, 1, ephemeral_storage_mb=10240, free_tier=False)
    assert one.total_usd == pytest.approx(invocation_cost(1024, 1000, "x86_64", ephemeral_mb=10240))


# --- provisioned concurrency ---------------------------------------------------------------------------------------


def test_provisioned_concurrency_kept_warm_all_month():
    # 10 environments of 1,024 MB for 730 h: 10 x 1 GB x 2,628,000 s = 26,280,000 GB-s
    #   x86: x $0.0000041667 = $109.500876; arm64: x $0.0000033334 = $87.601752
    # 1.2M invocations of 1 s = 1,200,000 GB-s, all within the capacity, at the provisioned execution rate:
    #   x86: x $0.0000097222 = $11.66664; requests 1.2M x $0.20/M = $0.24 (no free tier)
    assert HOURS_PER_MONTH == 730
    cost = monthly_cost(1024, 1000, 1_200_000, provisioned_concurrency=10)
    assert cost.provisioned_hours == 730
    assert cost.provisioned_capacity_gb_seconds == pytest.approx(26_280_000)
    assert cost.provisioned_capacity_usd == pytest.approx(109.500876)
    assert cost.provisioned_execution_usd == pytest.approx(11.66664)
    assert cost.requests_usd == pytest.approx(0.24)
    assert cost.duration_usd == 0
    assert cost.total_usd == pytest.approx(109.500876 + 11.66664 + 0.24)
    assert not cost.free_tier_applied and cost.notes
    arm = monthly_cost(1024, 1000, 1_200_000, "arm64", provisioned_concurrency=10)
    assert arm.provisioned_capacity_usd == pytest.approx(87.601752)
    assert arm.provisioned_execution_usd == pytest.approx(1_200_000 * 0.0000077778)
    b = cost.breakdown()["provisioned_concurrency"]
    assert b["concurrency"] == 10 and b["capacity_usd"] == pytest.approx(109.500876)


def test_provisioned_concurrency_overflow_is_billed_on_demand_without_the_free_tier():
    # 1 environment of 128 MB for 730 h: 0.125 GB x 2,628,000 s = 328,500 GB-s of capacity ($1.368764... at
    # $0.0000041667). 3M invocations of 1 s at 128 MB = 375,000 GB-s: 328,500 run provisioned
    # (x $0.0000097222 = $3.1937427), the other 46,500 on demand with no free tier (x $0.0000166667 = $0.77500155).
    # Requests: 3M x $0.20/M = $0.60 (no free tier).
    cost = monthly_cost(128, 1000, 3_000_000, provisioned_concurrency=1)
    assert cost.provisioned_execution_gb_seconds == pytest.approx(328_500)
    assert cost.on_demand_gb_seconds == pytest.approx(46_500)
    assert cost.billable_gb_seconds == pytest.approx(46_500)
    assert cost.provisioned_capacity_usd == pytest.approx(328_500 * 0.0000041667)
    assert cost.provisioned_execution_usd == pytest.approx(3.1937427)
    assert cost.duration_usd == pytest.approx(0.77500155)
    assert cost.requests_usd == pytest.approx(0.60)
    assert cost.total_usd == pytest.approx(328_500 * 0.0000041667 + 3.1937427 + 0.77500155 + 0.60)


def test_cli_shows_storage_and_provisioned_rows_when_asked(cost_cli):
    out = cost_cli(
        "--memory", "1024", "--duration-ms", "1000", "--invocations", "1200000",
        "--ephemeral-storage", "10240", "--provisioned-concurrency", "10", "--architecture", "arm64",
    )
    assert out.returncode == 0, out.stderr
    assert re.search(r"Storage .*10,240 MB /tmp: 11,400,000 GB-s beyond 512 MB .*\$0\.35$", out.stdout, re.M)
    assert re.search(r"Provisioned .*10 x 730 h: 26,280,000 GB-s .*\$87\.60$", out.stdout, re.M)
    assert "free tier does not apply" in out.stdout
    data = json.loads(cost_cli(
        "--memory", "1024", "--duration-ms", "1000", "--invocations", "1200000",
        "--ephemeral-storage", "10240", "--provisioned-concurrency", "10", "--architecture", "arm64", "--json",
    ).stdout)
    # 10,240 MB /tmp: 9.5 GB x 1.2M s = 11,400,000 GB-s x $0.0000000309 = $0.35226
    assert data["breakdown"]["ephemeral_storage"]["usd"] == pytest.approx(0.35226)
    assert data["breakdown"]["provisioned_concurrency"]["capacity_usd"] == pytest.approx(87.601752)
    assert data["total_usd"] == pytest.approx(
        0.24 + 0.35226 + 87.601752 + 1_200_000 * 0.0000077778
    )


def test_cli_free_tier_on_by_default(cost_cli):
    data = json.loads(cost_cli("--memory", "128", "--duration-ms", "100", "--invocations", "1000000", "--json").stdout)
    assert data["total_usd"] == 0 and data["breakdown"]["free_tier"]["applied"] is True
    assert "$0.00" in cost_cli("--memory", "128", "--duration-ms", "100", "--invocations", "1000000").stdout


# --- invalid input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--memory", "127"], "--memory"),
        (["--memory", "10241"], "--memory"),
        (["--duration-ms", "0"], "--duration-ms"),
        (["--duration-ms", "-5"], "--duration-ms"),
        (["--duration-ms", "nan"], "--duration-ms"),
        (["--invocations", "-1"], "--invocations"),
        (["--ephemeral-storage", "511"], "--ephemeral-storage"),
        (["--ephemeral-storage", "10241"], "--ephemeral-storage"),
        (["--provisioned-concurrency", "-1"], "--provisioned-concurrency"),
        (["--architecture", "sparc"], "--architecture"),
        (["--memory", "lots"], "--memory"),
    ],
)
def test_invalid_input_exits_2_with_a_clear_message(cost_cli, args, message):
    base = {"--memory": "512", "--duration-ms": "200", "--invocations": "1000"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    argv = [x for pair in base.items() for x in pair]
    out = cost_cli(*argv)
    assert out.returncode == 2
    assert message in out.stderr
    assert out.stdout == ""
    assert "Traceback" not in out.stderr


def test_missing_required_option_exits_2(cost_cli):
    out = cost_cli("--memory", "512", "--duration-ms", "200")
    assert out.returncode == 2 and "--invocations" in out.stderr


def test_api_rejects_impossible_inputs():
    with pytest.raises(ValueError):
        monthly_cost(512, 200, -1)
    with pytest.raises(ValueError):
        monthly_cost(512, 200, 1, ephemeral_storage_mb=100)
    with pytest.raises(ValueError):
        monthly_cost(512, 200, 1, architecture="sparc")
    with pytest.raises(ValueError):
        monthly_cost(512, 200, 1, provisioned_concurrency=-2)
