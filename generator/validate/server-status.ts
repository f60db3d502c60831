/**
 * What an API server's refusal means: the Status it returns on a failed dry run, read into the field
 * it names (as a JSON pointer into the object sent, like the local checks report) and its message.
 */

/** The parts of a metav1.Status a rejection carries. */
export interface ServerStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; group?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

export interface Rejection {
  /** JSON pointer into the object sent (`/spec/template/spec/containers/0/resources`), `/` for the whole object. */
  path: string;
  message: string;
}

export type DryRunOutcome =
  | { kind: "rejected"; rejections: Rejection[] }
  /** The object's namespace does not exist (yet): check it again in a namespace that does. */
  | { kind: "namespace-missing"; namespace: string }
  /** A create found the object already there. */
  | { kind: "already-exists" };

/** Reads a failed request's Status. `sent` is the object as sent, to turn `[name="x"]` selectors into indexes. */
export function readStatus(status: ServerStatus, sent: unknown): DryRunOutcome {
  const details = status.details ?? {};
  if (status.code === 404 && details.kind === "namespaces" && details.name) return { kind: "namespace-missing", namespace: details.name };
  if (status.reason === "AlreadyExists" || (status.code === 409 && /already exists/.test(status.message ?? ""))) return { kind: "already-exists" };
  const causes = (details.causes ?? []).filter((c) => c.message || c.field);
  if (causes.length > 0) {
    return {
      kind: "rejected",
      rejections: causes.map((c) => ({
        path: c.field ? fieldPointer(c.field, sent) : pathInMessage(c.message ?? "", sent).path,
        message: causeMessage(c),
      })),
    };
  }
  const message = status.message ?? `HTTP ${status.code ?? "?"} ${status.reason ?? ""}`.trim();
  return { kind: "rejected", rejections: splitMessage(message, sent) };
}

/** A cause's message, with its reason when the message alone does not say what is wrong. */
function causeMessage(cause: { reason?: string; message?: string }): string {
  const message = cause.message ?? cause.reason ?? "rejected";
  return cause.reason === "FieldValueDuplicate" || cause.reason === "FieldManagerConflict" ? `${cause.reason}: ${message}` : message;
}

/**
 * Messages without causes can still list several fields: strict decoding (`strict decoding error: unknown
 * field "spec.x", unknown field "spec.y"`) and apply's schema errors (`.spec.x: field not declared in schema`).
 */
function splitMessage(message: string, sent: unknown): Rejection[] {
  const unknown = [...message.matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1]!);
  if (unknown.length > 0) return unknown.map((field) => ({ path: fieldPointer(field, sent), message: `unknown field "${lastSegment(field)}"` }));
  const typed = message.match(/^failed to create typed patch object \([^)]*\): (.*)$/s);
  if (typed) {
    const errors = typed[1]!.split(/\n|, (?=\.)/).map((s) => s.trim()).filter((s) => s && s !== "errors:");
    return errors.map((e) => pathInMessage(e, sent));
  }
  const found = pathInMessage(message, sent);
  return [found];
}

/** `.spec.replicas: expected numeric, got string` -> the pointer and the rest of the message. */
function pathInMessage(message: string, sent: unknown): Rejection {
  const m = message.match(/^(\.[^\s:]+(?:\[[^\]]*\][^\s:]*)*): (.*)$/s);
  if (!m) return { path: "/", message };
  const rest = m[2]!;
  const field = m[1]!.slice(1);
  return { path: fieldPointer(field, sent), message: rest === "field not declared in schema" ? `unknown field "${lastSegment(field)}"` : rest };
}

function lastSegment(field: string): string {
  const segments = fieldSegments(field);
  return segments.at(-1) ?? field;
}

/**
 * The API server's field path (`spec.template.spec.containers[0].resources.limits[cpu]`, apply's
 * `.spec.containers[name="base"].image`, maps as `metadata.labels[app]`) as a JSON pointer. A list
 * entry named by its key becomes its index in the object sent; what cannot be placed stays as written.
 */
export function fieldPointer(field: string, sent: unknown): string {
  const segments = fieldSegments(field.replace(/^\./, ""));
  if (segments.length === 0) return "/";
  let node: unknown = sent;
  const out: string[] = [];
  for (const segment of segments) {
    const selector = segment.match(/^([^=]+)="?(.*?)"?$/);
    if (Array.isArray(node) && selector) {
      const [, key, value] = selector;
      const index = node.findIndex((item) => item && typeof item === "object" && String((item as Record<string, unknown>)[key!]) === value);
      out.push(index >= 0 ? String(index) : segment);
      node = index >= 0 ? node[index] : undefined;
      continue;
    }
    out.push(segment);
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return `/${out.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;
}

/** `a.b[0].c[name="x"].d[cpu]` -> a, b, 0, c, name="x", d, cpu. Dots inside brackets belong to the key. */
function fieldSegments(field: string): string[] {
  const segments: string[] = [];
  let current = "";
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (ch === ".") {
      if (current) segments.push(current);
      current = "";
    } else if (ch === "[") {
      if (current) segments.push(current);
      const end = findClosing(field, i);
      segments.push(field.slice(i + 1, end));
      current = "";
      i = end;
    } else current += ch;
  }
  if (current) segments.push(current);
  return segments;
}

function findClosing(field: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < field.length; i++) {
    if (field[i] === '"') quoted = !quoted;
    else if (field[i] === "]" && !quoted) return i;
  }
  return field.length;
}

/** The Status inside a failed response body (JSON text or already parsed); a body that is not one becomes its text. */
export function statusOf(body: unknown, code: number): ServerStatus {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { code, message: body.trim() || `HTTP ${code}` };
    }
  }
  if (parsed && typeof parsed === "object" && (parsed as { kind?: string }).kind === "Status") return { code, ...(parsed as ServerStatus) };
  return { code, message: `HTTP ${code}` };
}
