"use strict";
// What every roi_xl function needs besides its formula, for Excel's JavaScript custom functions:
// cells in, numbers and Excel errors out. The same rules as the Python functions (roi_xl.udfs and
// the xlwings Lite module): a value is a pair [number, error code] (0 = no error), a division by
// zero gives #DIV/0! in its cell only, and a cell the formula cannot use (empty, text, a rate
// outside 0..1, a negative count) stops the function with #VALUE! and a message naming the
// argument. The operations follow roi_xl's expression evaluator; the formulas that call them are
// rendered from roi_xl's single definition of each function and appended below.

const DIV0_CODE = 1;
const NUM_CODE = 2;
const VALUE_CODE = 3;
const ERROR_TEXTS = { [DIV0_CODE]: "#DIV/0!", [NUM_CODE]: "#NUM!", [VALUE_CODE]: "#VALUE!" };
[
  "#N/A",
  "#NAME?",
  "#NULL!",
  "#REF!",
  "#SPILL!",
  "#CALC!",
  "#FIELD!",
  "#CONNECT!",
  "#BLOCKED!",
  "#BUSY!",
  "#UNKNOWN!",
  "#GETTING_DATA",
].forEach((text, offset) => {
  ERROR_TEXTS[100 + offset] = text;
});
const ERROR_CODES_BY_TEXT = Object.fromEntries(
  Object.entries(ERROR_TEXTS).map(([code, text]) => [text, Number(code)])
);
// The errors a custom function can return (CustomFunctions.ErrorCode); others become #VALUE!.
const RETURNABLE = new Set(["#DIV/0!", "#NUM!", "#VALUE!", "#N/A", "#NAME?", "#NULL!", "#REF!"]);
const RATE_LOW = 0;
const RATE_HIGH = 1;

class BadCell extends Error {}

// ------------------------------------------------------------------------------ reading cells

function formatG(x) {
  // Python's format(x, "g"): 6 significant digits, trailing zeros dropped.
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const [mantissa, exponentText] = x.toExponential(5).split("e");
  const exponent = Number(exponentText);
  const strip = (s) => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
  if (exponent < -4 || exponent >= 6) {
    const digits = String(Math.abs(exponent)).padStart(2, "0");
    return `${strip(mantissa)}e${exponent < 0 ? "-" : "+"}${digits}`;
  }
  return strip(x.toFixed(5 - exponent));
}

function errorCode(cell) {
  if (typeof cell === "string") return ERROR_CODES_BY_TEXT[cell] || 0;
  if (cell !== null && typeof cell === "object" && typeof cell.code === "string") {
    return ERROR_CODES_BY_TEXT[cell.code] || VALUE_CODE;
  }
  return 0;
}

function isNumber(cell) {
  return (typeof cell === "number" && !Number.isNaN(cell)) || typeof cell === "boolean";
}

function isEmpty(cell) {
  return cell === null || cell === undefined || cell === "" || Number.isNaN(cell);
}

function describe(cell) {
  if (typeof cell === "string") {
    const shown = cell.length <= 30 ? cell : `${cell.slice(0, 27)}...`;
    return `the text '${shown}'`;
  }
  return `a ${typeof cell}`;
}

function where(row, column, rows, columns) {
  if (rows * columns <= 1) return "";
  if (columns === 1) return ` (row ${row + 1} of its range)`;
  if (rows === 1) return ` (column ${column + 1} of its range)`;
  return ` (row ${row + 1}, column ${column + 1} of its range)`;
}

function complain(argument, matrix, test, what) {
  const bad = [];
  matrix.cells.forEach((cells, row) =>
    cells.forEach((cell, column) => {
      if (test(cell)) bad.push([row, column]);
    })
  );
  if (bad.length === 0) return;
  const [row, column] = bad[0];
  const others = bad.length - 1;
  const more = others ? ` (${others} more cell${others > 1 ? "s" : ""} like it)` : "";
  throw new BadCell(
    `${argument.function}: ${argument.name}${where(row, column, matrix.rows, matrix.columns)}` +
      ` ${what(matrix.cells[row][column])}${more}. ${argument.name}: ${argument.doc}.`
  );
}

function asMatrix(argument, value) {
  // Excel passes a matrix; a plain value or a list (from a script) is a single cell or a row.
  let rows = value;
  if (!Array.isArray(value)) rows = [[value]];
  else if (!value.every(Array.isArray)) {
    if (value.some(Array.isArray)) throw notRectangular(argument);
    rows = [value];
  }
  const columns = rows.length ? rows[0].length : 0;
  if (rows.some((row) => row.length !== columns || row.some(Array.isArray))) {
    throw notRectangular(argument);
  }
  return rows;
}

function notRectangular(argument) {
  return new BadCell(`${argument.function}: ${argument.name} is not a rectangular range of cells.`);
}

function readArgument(argument, value) {
  const raw = asMatrix(argument, value);
  const cells = raw.map((row) => row.map((cell) => ({ cell, error: errorCode(cell) })));
  const matrix = { rows: raw.length, columns: raw.length ? raw[0].length : 0, cells };
  complain(
    argument,
    matrix,
    (c) => !c.error && !isNumber(c.cell) && !isEmpty(c.cell),
    (c) => `is ${describe(c.cell)}, not a number`
  );
  complain(argument, matrix, (c) => !c.error && isEmpty(c.cell), () => "is empty: enter a number");
  const pairs = cells.map((row) =>
    row.map((c) => (c.error ? [NaN, c.error] : [Number(c.cell), 0]))
  );
  const numbers = { rows: matrix.rows, columns: matrix.columns, cells: pairs };
  if (argument.kind === "rate") {
    complain(
      argument,
      numbers,
      (p) => !p[1] && p[0] > RATE_HIGH,
      (p) => rateAboveOne(p[0])
    );
    complain(
      argument,
      numbers,
      (p) => !p[1] && p[0] < RATE_LOW,
      (p) => `is ${formatG(p[0])}: a rate must be between 0 and 1 (0 % to 100 %)`
    );
  } else if (argument.kind === "count") {
    complain(
      argument,
      numbers,
      (p) => !p[1] && p[0] < 0,
      (p) => `is ${formatG(p[0])}: a count cannot be negative`
    );
  }
  return numbers;
}

function rateAboveOne(value) {
  const shown = formatG(value);
  let message = `is ${shown}, above 100 %: a rate must be between 0 and 1`;
  if (value <= 100) {
    message += `; ${shown} is probably ${shown} %: enter ${shown}% or ${formatG(value / 100)}`;
  }
  return message;
}

function commonShape(name, argumentList, matrices) {
  const fits = (sizes) => sizes.every((n) => n === 1 || n === Math.max(...sizes));
  const rows = matrices.map((m) => m.rows);
  const columns = matrices.map((m) => m.columns);
  if (!fits(rows) || !fits(columns)) {
    const sizes = argumentList
      .map((a, i) => `${a.name} ${matrices[i].rows} x ${matrices[i].columns}`)
      .join(", ");
    throw new BadCell(
      `${name}: the ranges do not fit together (${sizes}); give ranges of the same size, or single cells.`
    );
  }
  return [Math.max(...rows), Math.max(...columns)];
}

// --------------------------------------------------------------------------------- results

function excelError(code) {
  const text = ERROR_TEXTS[code];
  if (RETURNABLE.has(text)) return new CustomFunctions.Error(text);
  return new CustomFunctions.Error("#VALUE!", `An argument holds ${text}.`);
}

function call(name, body, argumentList, values) {
  let matrices;
  let shape;
  try {
    matrices = argumentList.map((argument, i) => readArgument(argument, values[i]));
    shape = commonShape(name, argumentList, matrices);
  } catch (error) {
    if (error instanceof BadCell) throw new CustomFunctions.Error("#VALUE!", error.message);
    throw error;
  }
  const out = [];
  for (let row = 0; row < shape[0]; row++) {
    const line = [];
    for (let column = 0; column < shape[1]; column++) {
      const pairs = matrices.map(
        (m) => m.cells[m.rows === 1 ? 0 : row][m.columns === 1 ? 0 : column]
      );
      const [value, error] = body(...pairs);
      line.push(error ? excelError(error) : value);
    }
    out.push(line);
  }
  return out;
}

// ------------------------------------------------------------------------------ operations

function firstError(...codes) {
  for (const code of codes) if (code !== 0) return code;
  return 0;
}

function number(value) {
  return [value, 0];
}

function negate(a) {
  return [-a[0], a[1]];
}

function plus(a) {
  return a;
}

function checked(value, newError, a, b) {
  const error = !Number.isFinite(value) && newError === 0 ? NUM_CODE : newError;
  return [value, firstError(a[1], b[1], error)];
}

function add(a, b) {
  return checked(a[0] + b[0], 0, a, b);
}

function subtract(a, b) {
  return checked(a[0] - b[0], 0, a, b);
}

function multiply(a, b) {
  return checked(a[0] * b[0], 0, a, b);
}

function divide(a, b) {
  return checked(a[0] / b[0], b[0] === 0 ? DIV0_CODE : 0, a, b);
}

function power(a, b) {
  const zeroBase = a[0] === 0;
  const error = zeroBase && b[0] < 0 ? DIV0_CODE : zeroBase && b[0] === 0 ? NUM_CODE : 0;
  return checked(Math.pow(a[0], b[0]), error, a, b);
}

function comparison(test) {
  return (a, b) => [test(a[0], b[0]) ? 1 : 0, firstError(a[1], b[1])];
}

const less = comparison((x, y) => x < y);
const less_equal = comparison((x, y) => x <= y);
const greater = comparison((x, y) => x > y);
const greater_equal = comparison((x, y) => x >= y);
const equal = comparison((x, y) => x === y);
const not_equal = comparison((x, y) => x !== y);

function choose(condition, whenTrue, whenFalse) {
  const chosen = condition[0] !== 0 ? whenTrue : whenFalse;
  return [chosen[0], firstError(condition[1], chosen[1])];
}

function reduceWith(pick) {
  return (...args) => [
    args.slice(1).reduce((value, arg) => pick(value, arg[0]), args[0][0]),
    firstError(...args.map((arg) => arg[1])),
  ];
}

function rint(x) {
  // Round half to even, as numpy's round.
  const rounded = Math.round(x);
  return Math.abs(x % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

function roundExcel(value, digits) {
  // Excel's ROUND: half away from zero, on the decimal the user sees; far digits keep
  // the number (ROUND(x, 400) is x) or give 0 (ROUND(x, -400)), never NaN.
  const factor = Math.pow(10, Math.min(Math.max(Math.trunc(digits[0]), -308), 308));
  const scaled = rint(Math.abs(value[0]) * factor * 1e9) / 1e9;
  const rounded = (Math.sign(value[0]) * Math.floor(scaled + 0.5)) / factor;
  const exact = Number.isFinite(value[0]) && !(Math.abs(value[0]) * factor < 2 ** 52);
  const result = exact ? value[0] : rounded;
  const invalid = Number.isFinite(result) ? 0 : NUM_CODE;
  return [result, firstError(value[1], digits[1], invalid)];
}

function absolute(value) {
  return [Math.abs(value[0]), value[1]];
}

const BUILTINS = {
  IF: choose,
  MIN: reduceWith(Math.min),
  MAX: reduceWith(Math.max),
  ROUND: roundExcel,
  ABS: absolute,
};
