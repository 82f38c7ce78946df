// @actions/workflow-parser imports its JSON schema without `with { type: "json" }` (actions/languageservices#387),
// which Node 20+ refuses. This loader hook supplies the missing import attribute for .json files.
export async function load(url, context, nextLoad) {
  if (url.endsWith(".json")) {
    const importAttributes = { ...(context.importAttributes ?? {}), type: "json" };
    return nextLoad(url, { ...context, importAttributes });
  }
  return nextLoad(url, context);
}
