"""Each named business function: its value, its worked examples, its impossible cases."""

from __future__ import annotations

import numpy as np
import pytest

from roi_xl.model.engine import as_displayed
from roi_xl.model.excel_errors import DIV0
from roi_xl.model.functions import FUNCTIONS, PAYBACK_NEVER

F = FUNCTIONS


def test_missed_call_loss_of_the_phone_article() -> None:
    # 120 missed calls x 40 % leads x 37 % conversion x 850 = 15,096
    assert as_displayed(F["MISSEDCALLLOSS"](120, 0.4, 0.37, 850)) == 15096
    assert F["MISSEDCALLLOSS"](120, 0.4, 0.37, 850) == pytest.approx(15096, abs=0.005)
    assert F["MISSEDCALLLOSS"](0, 0.4, 0.37, 850) == 0


def test_roi_and_return_multiple_are_different_figures() -> None:
    # Phoning article: 36,000 margin for 12,000 cost is ROI 200 % and a return of 3.
    assert F["ROI"](36000, 12000) == 2.0
    assert F["RETURNMULTIPLE"](36000, 12000) == 3.0
    # Its FAQ: 20,000 for 10,000 is a return multiple of 2, an ROI of 100 %.
    assert F["RETURNMULTIPLE"](20000, 10000) == 2.0
    assert F["ROI"](20000, 10000) == 1.0
    assert F["ROI"](5000, 10000) == -0.5


def test_phone_roi_is_roi_of_incremental_figures() -> None:
    assert F["PHONEROI"](6000, 2000) == 2.0
    assert F["PHONEROI"](1000, 2000) == -0.5


def test_unit_costs_and_conversion() -> None:
    assert F["CAC"](12000, 15) == 800
    assert F["COSTPER"](12000, 80) == 150
    assert F["COSTPER"](12000, 320) == 37.5
    assert F["CONVRATE"](80, 320) == 0.25


def test_discount_factor() -> None:
    assert F["DISCOUNTFACTOR"](0.1, 0) == 1
    assert F["DISCOUNTFACTOR"](0.1, 2) == pytest.approx(1 / 1.21)


def test_ltv_matches_the_year_by_year_sum() -> None:
    first, recurring, years, churn, rate = 2400.0, 1200.0, 3.0, 0.2, 0.08
    # Year 0 (the deal signed) is not discounted; later years keep (1 - churn)^t customers.
    by_year = first + sum(recurring * (1 - churn) ** t / (1 + rate) ** t for t in range(1, 3))
    assert F["LTV"](first, recurring, years, churn, rate) == pytest.approx(by_year, rel=1e-12)
    # No churn and no discounting: simply first + recurring x later years (the 0/0 case).
    assert F["LTV"](1000, 500, 3, 0, 0) == 2000
    assert F["LTV"](1000, 500, 0, 0.2, 0.08) == 0


@pytest.mark.parametrize(("churn", "rate"), [(0.3, 0.1), (0.0, 0.0), (1.0, 0.5)])
def test_ltv_of_one_year_is_exactly_the_first_deals_margin(churn: float, rate: float) -> None:
    """The prudent case of the phoning article: 5,000 at 35 % is 1,750, not 1,750 / 1.1."""
    assert F["LTV"](5000 * 0.35, 2500 * 0.35, 1, churn, rate) == 1750


def test_payback_months() -> None:
    assert F["PAYBACKMONTHS"](12000, 1000) == 12
    assert F["PAYBACKMONTHS"](0, 1000) == 0  # nothing to pay back


@pytest.mark.parametrize("gain", [0, -300])
def test_payback_never_reached_is_a_number_not_an_error(gain: float) -> None:
    """A loss every month never pays back: the documented -1, shown as "never", not #DIV/0!."""
    assert F["PAYBACKMONTHS"](5000, gain) == PAYBACK_NEVER == -1
    assert F["PAYBACKMONTHS"](0, gain) == 0
    assert F["SUPPORTVALUE"](50, 6) == 300


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ROI", (100, 0)),
        ("RETURNMULTIPLE", (100, 0)),
        ("PHONEROI", (100, 0)),
        ("CAC", (12000, 0)),
        ("COSTPER", (12000, 0)),
        ("CONVRATE", (10, 0)),
        ("DISCOUNTFACTOR", (-1, 1)),
        ("LTV", (1000, 1000, 3, 0, -1)),
    ],
)
def test_impossible_cases_give_an_excel_error_not_a_crash(name: str, args: tuple) -> None:
    assert F[name](*args) == DIV0


def test_functions_work_on_arrays() -> None:
    missed = np.array([120.0, 0.0, 240.0])
    result = F["MISSEDCALLLOSS"](missed, 0.4, 0.37, 850)
    assert [as_displayed(v) for v in result] == [15096, 0, 30192]
    mixed = F["CAC"](np.array([100.0, 100.0]), np.array([4.0, 0.0]))
    assert mixed[0] == 25 and mixed[1] == DIV0


def test_every_function_is_documented() -> None:
    for function in FUNCTIONS.values():
        assert function.description and len(function.description) < 255
        assert function.source
        for param in function.params:
            assert param.doc, f"{function.name}.{param.name}"
            assert param.kind in {"count", "rate", "amount", "years", "number"}


def test_wrong_argument_count_is_refused() -> None:
    with pytest.raises(TypeError, match="ROI\\(\\) takes 2 arguments"):
        F["ROI"](1)
