/**
 * The subset of Go text/template (with the sprig functions of External Secrets' engine v2) that the
 * generator's templates use: `{{ .key }}` followed by pipeline stages `urlquery` (Go's QueryEscape:
 * unreserved characters kept, space as "+") and `replace "old" "new"`.
 */
export function renderGoTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*\.(\w+)((?:\s*\|\s*[^|}]+)*)\s*\}\}/g, (_m, key: string, pipeline: string) => {
    let value = values[key];
    if (value === undefined) throw new Error(`map has no entry for key "${key}"`);
    for (const stage of pipeline.split("|").map((s) => s.trim()).filter(Boolean)) value = applyStage(stage, value);
    return value;
  });
}

function applyStage(stage: string, value: string): string {
  if (stage === "urlquery") return queryEscape(value);
  const replace = /^replace\s+"((?:[^"\\]|\\.)*)"\s+"((?:[^"\\]|\\.)*)"$/.exec(stage);
  if (replace) return value.split(JSON.parse(`"${replace[1]}"`)).join(JSON.parse(`"${replace[2]}"`));
  throw new Error(`template function not in the test subset: ${stage}`);
}

function queryEscape(value: string): string {
  return [...Buffer.from(value, "utf8")]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      if (c === " ") return "+";
      return `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}
