// Derives the contract facts of Terraform stacks (issue 14 §1): every state address with its type, every argument as
// written (HCL expressions, normalised: comments and layout removed), module sources and versions, required providers,
// provider configurations, locals, variables (type, default present, sensitive) and outputs (value expressions).
// Facts only: no comments, no prose, no values from tfvars.
//
//   node terraform-facts.js stack <dir>
//       prints the facts of one stack folder (the tests read the project's stacks this way)
//   node terraform-facts.js live <studio> [--rev <commit>] --out <fixture.json>
//       derives both live stacks (k8s/terraform/aws, k8s/terraform/shared) from a TesslateAI/Studio checkout or a bare
//       git directory of it (the fetch tool's mirror), and writes the fixture with the source commit
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

let hcl2json;
try {
  hcl2json = require("@cdktf/hcl2json");
} catch {
  console.error("@cdktf/hcl2json is not installed: run `npm ci --prefix tests/tools/hcl2json`.");
  process.exit(3);
}

const LIVE_STACKS = { aws: "k8s/terraform/aws", shared: "k8s/terraform/shared" };

// ── Expression normalisation ─────────────────────────────────────────────────────────────────────────────────────
// hcl2json keeps expressions as source text ("${jsonencode({ ... # comment })}"): two stacks that write the same
// expression with other layout or comments must compare equal, and anything else must not.

function normalizeTemplate(text) {
  let out = "";
  let i = 0;
  while (i < text.length) {
    if ((text.startsWith("$${", i) || text.startsWith("%%{", i))) {
      out += text.slice(i, i + 3);
      i += 3;
      continue;
    }
    if (text.startsWith("${", i) || text.startsWith("%{", i)) {
      const opener = text.slice(i, i + 2);
      const { tokens, end } = tokenize(text, i + 2, "}");
      out += opener + join(tokens) + "}";
      i = end + 1;
      continue;
    }
    out += text[i];
    i++;
  }
  return out;
}

const OPERATORS = ["...", "==", "!=", "<=", ">=", "&&", "||", "=>", "::"];

// Tokens of the expression starting at `start`, up to the unmatched `closer` (or the end). Whitespace and comments
// are dropped; a newline inside { } separates items (a comma), inside ( ) and [ ] it is insignificant; a comma before
// a closing bracket is dropped. Strings keep their literal text, with their interpolations normalised.
function tokenize(text, start, closer) {
  const tokens = [];
  const stack = [];
  let i = start;
  const push = (token) => tokens.push(token);
  const separate = () => {
    const last = tokens[tokens.length - 1];
    if (last === undefined || last === "{" || last === "," || last === "[" || last === "(") return;
    push(",");
  };
  while (i < text.length) {
    const c = text[i];
    if (stack.length === 0 && closer !== null && c === closer) {
      return { tokens: tidy(tokens), end: i };
    }
    if (c === "\n") {
      if (stack[stack.length - 1] === "{") separate();
      i++;
      continue;
    }
    if (/\s/.test(c)) { i++; continue; }
    if (c === "#" || text.startsWith("//", i)) {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
      continue;
    }
    if (c === '"') {
      const end = stringEnd(text, i + 1);
      push('"' + normalizeTemplate(text.slice(i + 1, end)) + '"');
      i = end + 1;
      continue;
    }
    if (text.startsWith("<<", i) && /^<<-?[A-Za-z_]/.test(text.slice(i, i + 4))) {
      const match = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)[^\n]*\n/.exec(text.slice(i));
      const marker = match[2];
      const bodyStart = i + match[0].length;
      const closing = new RegExp("^[ \\t]*" + marker + "[ \\t]*$", "m");
      const rest = text.slice(bodyStart);
      const found = closing.exec(rest);
      const body = found ? rest.slice(0, found.index) : rest;
      push("<<" + normalizeTemplate(dedent(body, match[1] === "-")) + ">>");
      i = found ? bodyStart + found.index + found[0].length : text.length;
      continue;
    }
    if ("([{".includes(c)) { stack.push(c); push(c); i++; continue; }
    if (")]}".includes(c)) {
      if (tokens[tokens.length - 1] === ",") tokens.pop();
      stack.pop();
      push(c);
      i++;
      continue;
    }
    if (c === ",") { separate(); i++; continue; }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) { push(op); i += op.length; continue; }
    const word = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i)) || /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (word) { push(word[0]); i += word[0].length; continue; }
    push(c);
    i++;
  }
  return { tokens: tidy(tokens), end: text.length };
}

function tidy(tokens) {
  while (tokens[tokens.length - 1] === ",") tokens.pop();
  return tokens;
}

// One canonical spacing: calls, indexes and traversals tight, everything else separated by one space.
function join(tokens) {
  let out = "";
  tokens.forEach((token, index) => {
    const previous = tokens[index - 1];
    const word = (t) => t !== undefined && /^[A-Za-z0-9_"<]/.test(t);
    const tight = index === 0 || previous === "(" || previous === "[" || previous === "." || token === ")" || token === "]"
      || token === "," || token === "." || (token === "(" && word(previous)) || (token === "[" && (word(previous) || previous === ")" || previous === "]"));
    out += (tight ? "" : " ") + token;
  });
  return out;
}

function stringEnd(text, from) {
  let i = from;
  let depth = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") { i += 2; continue; }
    if (depth === 0 && c === '"') return i;
    if ((text.startsWith("${", i) || text.startsWith("%{", i)) && !text.startsWith("$${", i - 1)) {
      const { end } = tokenize(text, i + 2, "}");
      i = end + 1;
      continue;
    }
    i++;
  }
  return text.length;
}

function dedent(body, indented) {
  if (!indented) return body;
  const lines = body.split("\n");
  const widths = lines.filter((l) => l.trim().length > 0).map((l) => l.length - l.trimStart().length);
  const indent = widths.length ? Math.min(...widths) : 0;
  return lines.map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join("\n");
}

const template = (text) => (text.includes("${") || text.includes("%{") ? normalizeTemplate(text) : text);

// Keeps the JSON type (so "true" and true differ); strings are normalised templates.
function normalizeValue(value) {
  if (typeof value === "string") return template(value);
  if (Array.isArray(value)) return value.map(normalizeValue);
  return value;
}

// ── Flattening ───────────────────────────────────────────────────────────────────────────────────────────────────

// depends_on orders operations; it names and shapes nothing that exists.
const ORDERING_ONLY = ["depends_on"];

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function keyPath(prefix, key) {
  const normalizedKey = template(key);
  const segment = IDENT.test(normalizedKey) ? normalizedKey : JSON.stringify(normalizedKey);
  if (!prefix) return IDENT.test(normalizedKey) ? segment : `[${segment}]`;
  return IDENT.test(normalizedKey) ? `${prefix}.${segment}` : `${prefix}[${segment}]`;
}

// Each argument (and each attribute of nested blocks and object literals) as path → normalised expression.
// A list of plain values stays one value; lists of objects (nested blocks, object lists) are indexed.
function flatten(body, prefix, out, skip) {
  for (const key of Object.keys(body).sort()) {
    if (!prefix && skip.includes(key)) continue;
    const value = body[key];
    const at = keyPath(prefix, key);
    if (Array.isArray(value) && value.some((v) => v !== null && typeof v === "object")) {
      value.forEach((element, index) => {
        if (element !== null && typeof element === "object" && !Array.isArray(element)) flatten(element, `${at}[${index}]`, out, []);
        else out[`${at}[${index}]`] = normalizeValue(element);
      });
      if (value.length === 0) out[at] = [];
    } else if (Array.isArray(value)) {
      out[at] = normalizeValue(value);
    } else if (value !== null && typeof value === "object") {
      if (Object.keys(value).length === 0) out[at] = {};
      else flatten(value, at, out, []);
    } else {
      out[at] = normalizeValue(value);
    }
  }
  return out;
}

// A type or a traversal as written: the expression inside "${...}".
const unwrap = (expression) => {
  const text = typeof expression === "string" ? template(expression) : JSON.stringify(expression);
  return text.startsWith("${") && text.endsWith("}") ? text.slice(2, -1) : text;
};

// ── Facts of one stack ───────────────────────────────────────────────────────────────────────────────────────────

async function parseFiles(files) {
  const parsed = {};
  const errors = [];
  for (const { name, text } of files) {
    try {
      parsed[name] = await hcl2json.parse(name, text);
    } catch (error) {
      errors.push(`${name}: ${String(error && error.message ? error.message : error)}`);
    }
  }
  if (errors.length) throw new Error(errors.join("\n"));
  return parsed;
}

// The files a stack reads with file("${path.module}/…") go into the cluster (ConfigMaps): their content is part of
// what the stack creates. Recorded per address and argument as the repository path and a SHA-256, never the content.
function filesRead(addresses, stackFolder, readFile) {
  const read = {};
  for (const [address, block] of Object.entries(addresses)) {
    for (const [argument, value] of Object.entries(block.arguments)) {
      if (typeof value !== "string") continue;
      for (const match of value.matchAll(/file\("\$\{path\.module\}\/([^"]+)"\)/g)) {
        const repositoryPath = path.posix.normalize(path.posix.join(stackFolder, match[1]));
        const content = readFile(repositoryPath);
        read[`${address} ${argument}`] = {
          path: repositoryPath,
          sha256: content === null ? null : crypto.createHash("sha256").update(content).digest("hex"),
        };
      }
    }
  }
  return read;
}

function facts(parsed) {
  const result = {
    required_version: null,
    backend: null,
    required_providers: {},
    providers: {},
    addresses: {},
    locals: {},
    variables: {},
    outputs: {},
    moved: [],
    import: [],
    removed: [],
    files: Object.keys(parsed).map((f) => path.basename(f)).sort(),
  };
  for (const file of Object.keys(parsed).sort()) {
    const json = parsed[file];
    for (const terraform of json.terraform || []) {
      if (terraform.required_version) result.required_version = terraform.required_version;
      if (terraform.backend) result.backend = Object.keys(terraform.backend)[0];
      for (const required of terraform.required_providers || []) {
        for (const [name, spec] of Object.entries(required)) {
          result.required_providers[name] = typeof spec === "string" ? { source: null, version: spec } : { source: spec.source || null, version: spec.version || null };
        }
      }
    }
    for (const [name, blocks] of Object.entries(json.provider || {})) {
      for (const body of blocks) {
        const key = body.alias ? `${name}.${body.alias}` : name;
        result.providers[key] = flatten(body, "", {}, []);
      }
    }
    for (const [kind, prefix] of [["resource", ""], ["data", "data."]]) {
      for (const [type, named] of Object.entries(json[kind] || {})) {
        for (const [name, blocks] of Object.entries(named)) {
          for (const body of blocks) {
            result.addresses[`${prefix}${type}.${name}`] = { kind, type, file: path.basename(file), arguments: flatten(body, "", {}, ORDERING_ONLY) };
          }
        }
      }
    }
    for (const [name, blocks] of Object.entries(json.module || {})) {
      for (const body of blocks) {
        result.addresses[`module.${name}`] = {
          kind: "module",
          type: "module",
          file: path.basename(file),
          source: body.source,
          version: body.version || null,
          arguments: flatten(body, "", {}, ["source", "version", ...ORDERING_ONLY]),
        };
      }
    }
    for (const locals of json.locals || []) {
      Object.assign(result.locals, flatten(locals, "", {}, []));
    }
    for (const [name, blocks] of Object.entries(json.variable || {})) {
      for (const body of blocks) {
        result.variables[name] = {
          type: body.type === undefined ? null : unwrap(body.type),
          has_default: Object.prototype.hasOwnProperty.call(body, "default"),
          sensitive: body.sensitive === true,
          nullable: body.nullable === undefined ? null : body.nullable,
        };
      }
    }
    for (const [name, blocks] of Object.entries(json.output || {})) {
      for (const body of blocks) {
        result.outputs[name] = { value: normalizeValue(body.value), sensitive: body.sensitive === true };
      }
    }
    for (const moved of json.moved || []) result.moved.push({ from: unwrap(moved.from), to: unwrap(moved.to) });
    for (const imported of json.import || []) result.import.push({ to: unwrap(imported.to), id: normalizeValue(imported.id) });
    for (const removed of json.removed || []) {
      const lifecycle = (removed.lifecycle || [])[0] || {};
      result.removed.push({ from: unwrap(removed.from), destroy: lifecycle.destroy === undefined ? true : lifecycle.destroy });
    }
  }
  return result;
}

// A stack folder of this repository: paths are relative to the repository root (git's top level).
async function stackFacts(directory) {
  const files = fs.readdirSync(directory).filter((f) => f.endsWith(".tf")).sort()
    .map((f) => ({ name: path.join(directory, f), text: fs.readFileSync(path.join(directory, f), "utf8") }));
  const result = facts(await parseFiles(files));
  let root;
  try {
    root = git(["-C", directory, "rev-parse", "--show-toplevel"], { stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    root = path.resolve(directory, "..", ".."); // not a git checkout: stacks sit at <root>/terraform/<stack>
  }
  const folder = path.relative(root, path.resolve(directory)).split(path.sep).join("/");
  result.files_read = filesRead(result.addresses, folder, (file) => {
    const full = path.join(root, file);
    return fs.existsSync(full) ? fs.readFileSync(full) : null;
  });
  return result;
}

// ── The live stacks from a TesslateAI/Studio checkout or bare git directory ──────────────────────────────────────

function git(args, options) {
  return execFileSync("git", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
}

async function liveFacts(studio, rev) {
  const checkout = fs.existsSync(path.join(studio, LIVE_STACKS.aws));
  const gitArgs = checkout ? ["-C", studio] : ["--git-dir", studio];
  const revision = rev || "HEAD";
  if (checkout && rev) throw new Error("--rev needs a bare git directory; a checkout is read as it is (check out the commit first).");
  const commit = git([...gitArgs, "rev-parse", `${revision}^{commit}`]).trim();
  const date = git([...gitArgs, "show", "-s", "--format=%cI", commit]).trim();
  if (checkout && git(["-C", studio, "status", "--porcelain", "--", "k8s/terraform"]).trim().length > 0) {
    throw new Error(`${studio} has local changes under k8s/terraform: the fixture must describe a commit.`);
  }
  const stacks = {};
  for (const [stack, folder] of Object.entries(LIVE_STACKS)) {
    const names = git([...gitArgs, "ls-tree", "--name-only", commit, folder + "/"]).split("\n").filter((f) => f.endsWith(".tf")).sort();
    if (names.length === 0) throw new Error(`${folder} has no .tf files at ${commit}.`);
    const files = names.map((name) => ({ name, text: git([...gitArgs, "show", `${commit}:${name}`]) }));
    stacks[stack] = facts(await parseFiles(files));
    stacks[stack].folder = folder;
    stacks[stack].files_read = filesRead(stacks[stack].addresses, folder, (file) => {
      try {
        return execFileSync("git", [...gitArgs, "show", `${commit}:${file}`], { maxBuffer: 64 * 1024 * 1024 });
      } catch {
        return null;
      }
    });
    // Backend files (partial S3 configuration) the live stack keeps next to it: their settings, as written.
    const backends = git([...gitArgs, "ls-tree", "--name-only", commit, folder + "/"]).split("\n").filter((f) => f.endsWith(".hcl")).sort();
    const parsedBackends = await parseFiles(backends.map((name) => ({ name, text: git([...gitArgs, "show", `${commit}:${name}`]) })));
    stacks[stack].backend_files = Object.fromEntries(Object.entries(parsedBackends).map(([name, json]) => [path.basename(name), json]));
  }
  return {
    _comment: "Facts of the live Terraform stacks, derived by tests/tools/hcl2json/terraform-facts.js from the public TesslateAI/Studio repository. Facts only (addresses, types, arguments as written, versions, variable and output declarations). Regenerate: node tests/tools/hcl2json/terraform-facts.js live <studio checkout or git dir> --out <this file>.",
    source: { repository: "TesslateAI/Studio", commit, date },
    stacks,
  };
}

// ── CLI ──────────────────────────────────────────────────────────────────────────────────────────────────────────

function option(args, name) {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

(async () => {
  const [command, target, ...rest] = process.argv.slice(2);
  try {
    if (command === "stack" && target) {
      process.stdout.write(JSON.stringify(await stackFacts(target)));
    } else if (command === "live" && target) {
      const out = option(rest, "--out");
      const data = await liveFacts(target, option(rest, "--rev"));
      const text = JSON.stringify(data, null, 1) + "\n";
      if (out) fs.writeFileSync(out, text);
      else process.stdout.write(text);
      console.error(`live facts of ${data.source.repository}@${data.source.commit}: ` +
        Object.entries(data.stacks).map(([s, f]) => `${s} ${Object.keys(f.addresses).length} addresses, ${Object.keys(f.variables).length} variables, ${Object.keys(f.outputs).length} outputs`).join("; "));
    } else {
      console.error("usage: node terraform-facts.js stack <dir> | live <studio checkout or git dir> [--rev <commit>] [--out <file>]");
      process.exit(2);
    }
  } catch (error) {
    console.error(String(error && error.message ? error.message : error));
    process.exit(1);
  }
})();
