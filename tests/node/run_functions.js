// Runs a generated functions.js as Excel would: the script loaded once, each function registered
// with CustomFunctions.associate, then called with matrices. Reads {"script", "cases"} as JSON on
// stdin; prints one result per case: {"array": [[number or "#ERROR"]]} or {"raised": {code,
// message}}. CustomFunctions is Excel's global; here it is reduced to what functions.js uses.
"use strict";
const fs = require("fs");
const vm = require("vm");

class CustomFunctionsError {
  constructor(code, message) {
    this.code = code;
    this.message = message;
  }
}

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const registered = {};
const sandbox = {
  CustomFunctions: {
    Error: CustomFunctionsError,
    associate: (id, fn) => {
      if (id in registered) throw new Error(`${id} registered twice`);
      registered[id] = fn;
    },
  },
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(request.script, "utf8"), sandbox, { filename: request.script });

function cell(value) {
  if (value instanceof CustomFunctionsError) {
    if (value.message !== undefined) throw new Error(`unexpected message on a cell: ${value.message}`);
    return value.code;
  }
  if (typeof value !== "number") throw new Error(`not a number: ${JSON.stringify(value)}`);
  return value;
}

const results = request.cases.map(([name, args]) => {
  try {
    const matrix = registered[name](...args);
    return { array: matrix.map((row) => row.map(cell)) };
  } catch (error) {
    if (!(error instanceof CustomFunctionsError)) throw error;
    return { raised: { code: error.code, message: error.message } };
  }
});
process.stdout.write(JSON.stringify({ registered: Object.keys(registered), results }));
