/**
 * Parses config text into plain data while keeping a way back from a field path to its line and
 * column, so every later problem can point at the place in the file.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { ConfigIssue } from "./issues.js";

export interface ConfigSource {
  data: unknown;
  /** Position of the value at `path`, or of the nearest ancestor that exists in the file. */
  locate(path: readonly (string | number)[], options?: { key?: boolean }): { line: number; col: number } | undefined;
}

/** A config is a page or two; far beyond this, parsing would take the memory of the machine. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Aliases are expanded at most this many times: a few anchors are fine, a "billion laughs" is not. */
const MAX_ALIAS_EXPANSIONS = 100;

export function parseConfigText(text: string): { source?: ConfigSource; issues: ConfigIssue[] } {
  if (Buffer.byteLength(text, "utf8") > MAX_CONFIG_BYTES) {
    return { issues: [{ path: "", message: `is ${Buffer.byteLength(text, "utf8")} bytes; a config file is at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`, line: 1, col: 1 }] };
  }
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    if (error instanceof RangeError) return { issues: [{ path: "", message: "YAML: nested too deeply to read", line: 1, col: 1 }] };
    throw error;
  }
  const issues: ConfigIssue[] = firstPerLine(
    [...doc.errors, ...doc.warnings].map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      const message =
        e.code === "TAB_AS_INDENT" ? "a tab indents this line; YAML indents with spaces only"
        : /call stack/i.test(e.message) ? "nested too deeply to read"
        : firstLine(e.message);
      return { path: "", message: `YAML: ${message}`, line: pos.line, col: pos.col };
    }),
  );
  if (doc.errors.length > 0) return { issues };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    if (error instanceof ReferenceError && /alias count/i.test(error.message)) {
      return { issues: [{ path: "", message: `YAML: aliases expand more than ${MAX_ALIAS_EXPANSIONS} times (a YAML bomb?); write the values out`, line: 1, col: 1 }] };
    }
    if (error instanceof RangeError) return { issues: [{ path: "", message: "YAML: nested too deeply to read", line: 1, col: 1 }] };
    throw error;
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return { issues: [{ path: "", message: "must be a YAML mapping of settings", line: 1, col: 1 }] };
  }
  return { source: { data, locate: (path, options) => locate(doc, lineCounter, path, options?.key ?? false) }, issues };
}

function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
  key: boolean,
): { line: number; col: number } | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = doc.contents ?? undefined;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(segment));
      if (!pair) break;
      found = (last && key ? pair.key : (pair.value ?? pair.key)) as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment]) {
      found = node.items[segment] as Node;
      node = found;
    } else break;
  }
  const offset = found?.range?.[0];
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

/** The parser's first complaint about a line; the others follow from it (a tab gives three). */
function firstPerLine(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<number | undefined>();
  return issues.filter((issue) => !seen.has(issue.line) && (seen.add(issue.line), true));
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}
