"""The Portfolio row: its formulas, and the values they give, kept as files stream past.

Only running sums are kept (per column, and per SUMPRODUCT the formulas use),
plus the ranked metric's values for RANK's cached results, so memory does not
grow with the workbooks read beyond one number per file.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from xlsxwriter.utility import xl_rowcol_to_cell

from roi_xl.model import engine, expr
from roi_xl.model.excel_errors import DIV0
from roi_xl.rollup.additivity import (
    AVERAGE,
    PRODUCT,
    RATIO,
    SUM,
    TOTAL,
    WEIGHTED,
    product_factors,
)
from roi_xl.rollup.columns import FIRST_FILE_ROW, PORTFOLIO_ROW, SheetPlan
from roi_xl.workbook.values import Cell

RowValue = float | str | None


class Portfolio:
    """Running totals of one template's rows."""

    def __init__(self, plan: SheetPlan) -> None:
        self.plan = plan
        self.files = 0
        self.files_with_errors = 0
        self.errors = 0
        self.warnings = 0
        self.locales: set[str] = set()  # one currency: the roll-up refuses a mix
        self.sums = [0.0] * len(plan.columns)
        self.counts = [0] * len(plan.columns)
        self.products: dict[tuple[int, ...], float] = {g: 0.0 for g in _product_groups(plan)}
        self.ranked: list[float] = []
        self._sorted = True
        self._ranked_index = plan.index(plan.headline)

    def add(self, row: Sequence[RowValue], errors: int, warnings: int, locale: str) -> None:
        """Count one file's row of figures (aligned with ``plan.columns``)."""
        self.files += 1
        self.locales.add(locale)
        self.files_with_errors += errors > 0
        self.errors += errors
        self.warnings += warnings
        for index, value in enumerate(row):
            if isinstance(value, float):
                self.sums[index] += value
                self.counts[index] += 1
        for group in self.products:
            product = 1.0
            for index in group:
                value = row[index]
                product *= value if isinstance(value, float) else 0.0
            self.products[group] += product
        ranked = row[self._ranked_index]
        if isinstance(ranked, float):
            self.ranked.append(ranked)
            self._sorted = False

    def rank(self, value: RowValue) -> Cell:
        """RANK(value, column): 1 for the highest, ties sharing a rank; "" for no number."""
        if not isinstance(value, float):
            return ""
        if not self._sorted:
            self.ranked.sort()
            self._sorted = True
        return float(len(self.ranked) - bisect.bisect_right(self.ranked, value) + 1)

    def values(self) -> list[engine.Value]:
        """What each Portfolio formula evaluates to, in column order."""
        out: list[engine.Value] = []
        for index, column in enumerate(self.plan.columns):
            how = column.totalling.how
            if how == SUM:
                out.append(self.sums[index])
            elif how == AVERAGE:
                count = self.counts[index]
                out.append(self.sums[index] / count if count else DIV0)
            elif how == WEIGHTED:
                weight = self.plan.index(column.totalling.weight or "")
                total = self.sums[weight]
                out.append(self.products[(weight, index)] / total if total else DIV0)
            else:
                out.append(self._ratio(index, out))
        return out

    def _ratio(self, index: int, known: list[engine.Value]) -> engine.Value:
        node = self.plan.columns[index].totalling.node
        assert node is not None
        env: dict[str, object] = {}
        for name in expr.names(node):
            if name.startswith(TOTAL):
                env[name] = known[self.plan.index(name.removeprefix(TOTAL))]
            else:
                env[name] = self.products[self._group(name)]
        return expr.evaluate(node, env).scalar()  # type: ignore[arg-type]

    def _group(self, name: str) -> tuple[int, ...]:
        return tuple(self.plan.index(key) for key in product_factors(name))


def formulas(plan: SheetPlan, files: int) -> list[str]:
    """The Portfolio row's formulas (no leading '='), in column order."""
    last = FIRST_FILE_ROW + max(files, 1) - 1

    def cells(index: int) -> str:
        col = plan.col(index)
        return f"{xl_rowcol_to_cell(FIRST_FILE_ROW, col)}:{xl_rowcol_to_cell(last, col)}"

    def total(index: int) -> str:
        return xl_rowcol_to_cell(PORTFOLIO_ROW, plan.col(index))

    out = []
    for index, column in enumerate(plan.columns):
        how = column.totalling.how
        if how == SUM:
            out.append(f"SUM({cells(index)})")
        elif how == AVERAGE:
            out.append(f"AVERAGE({cells(index)})")
        elif how == WEIGHTED:
            weight = plan.index(column.totalling.weight or "")
            out.append(f"SUMPRODUCT({cells(weight)},{cells(index)})/{total(weight)}")
        else:
            node = column.totalling.node
            assert node is not None
            references = {}
            for name in expr.names(node):
                if name.startswith(TOTAL):
                    references[name] = total(plan.index(name.removeprefix(TOTAL)))
                else:
                    groups = [cells(plan.index(k)) for k in product_factors(name)]
                    references[name] = f"SUMPRODUCT({','.join(groups)})"
            out.append(expr.to_excel(node, references))
    return out


def _product_groups(plan: SheetPlan) -> set[tuple[int, ...]]:
    """Every SUMPRODUCT the Portfolio row computes: weighted averages and summed products."""
    groups = set()
    for index, column in enumerate(plan.columns):
        totalling = column.totalling
        if totalling.how == WEIGHTED:
            groups.add((plan.index(totalling.weight or ""), index))
        elif totalling.how == RATIO and totalling.node is not None:
            for name in expr.names(totalling.node):
                if name.startswith(PRODUCT):
                    groups.add(tuple(plan.index(key) for key in product_factors(name)))
    return groups
