// Parses Terraform/HCL files offline with @cdktf/hcl2json (the Go HCL parser compiled to wasm).
// Usage: node parse.js <file>...   stdout: {"<file>": <json>, ...}; exit 1 with every parse error on stderr.
"use strict";
const fs = require("fs");
let hcl2json;
try {
  hcl2json = require("@cdktf/hcl2json");
} catch {
  console.error("@cdktf/hcl2json is not installed: run `npm ci --prefix tests/tools/hcl2json`.");
  process.exit(3);
}

(async () => {
  const result = {};
  const errors = [];
  for (const file of process.argv.slice(2)) {
    try {
      result[file] = await hcl2json.parse(file, fs.readFileSync(file, "utf8"));
    } catch (error) {
      errors.push(`${file}: ${String(error && error.message ? error.message : error)}`);
    }
  }
  if (errors.length > 0) {
    console.error(errors.join("\n"));
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(result));
})();
