// Validates GitHub Actions workflow files offline with GitHub's own parser (@actions/workflow-parser):
// schema (parseWorkflow) and semantics such as unknown needs and cycles (convertWorkflowTemplate).
// Prints "OK <file>" or "<file>:<line>:<column>: <message>" per problem; exits 1 if any file has a problem.
import { readFile } from "node:fs/promises";
import { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } from "@actions/workflow-parser";
import { ErrorPolicy } from "@actions/workflow-parser/model/convert";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node --import ./register.mjs validate.mjs <workflow.yml>...");
  process.exit(2);
}

let failed = false;
for (const file of files) {
  let content;
  try {
    content = await readFile(file, "utf8");
  } catch (error) {
    console.log(`${file}:0:0: cannot read the file: ${error.message}`);
    failed = true;
    continue;
  }
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) {
    // TryConversion: semantic errors are reported even when the schema check already found some.
    await convertWorkflowTemplate(parsed.context, parsed.value, undefined, { errorPolicy: ErrorPolicy.TryConversion });
  }
  const errors = parsed.context.errors.getErrors();
  if (errors.length === 0) {
    console.log(`OK ${file}`);
    continue;
  }
  failed = true;
  const seen = new Set();
  for (const error of errors) {
    const line = error.range?.start?.line ?? 0;
    const column = error.range?.start?.column ?? 0;
    // Messages carry a "file (Line: L, Col: C): " prefix; the location is printed once, in front.
    const message = String(error.rawMessage ?? error.message).replace(/^.*?\(Line: \d+, Col: \d+\):\s*/, "");
    const text = `${file}:${line}:${column}: ${message}`;
    if (!seen.has(text)) {
      seen.add(text);
      console.log(text);
    }
  }
}
process.exit(failed ? 1 : 0);
