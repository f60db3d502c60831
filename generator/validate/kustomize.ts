/** Renders a kustomization with the real tool: `kustomize build` if installed, else `kubectl kustomize`. */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

export interface KubeDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function runs(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** kustomize is missing, or a build failed: a problem of the user's machine or tree, not a bug. */
export class KustomizeError extends Error {
  override name = "KustomizeError";
}

let tool: [string, string[]] | undefined;

export function kustomizeCommand(): [string, string[]] {
  if (tool) return tool;
  if (runs("kustomize", ["version"])) tool = ["kustomize", ["build"]];
  else if (runs("kubectl", ["version", "--client"])) tool = ["kubectl", ["kustomize"]];
  else throw new KustomizeError("neither kustomize nor kubectl is installed: install one of them to render the overlays");
  return tool;
}

export function kustomizeBuild(dir: string): KubeDocument[] {
  const [command, args] = kustomizeCommand();
  try {
    return parseDocuments(execFileSync(command, [...args, dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 }));
  } catch (error) {
    throw buildError(command, [...args, dir], error);
  }
}

const execFileAsync = promisify(execFile);

/** kustomizeBuild without blocking, so several builds can run at once. */
export async function kustomizeBuildAsync(dir: string): Promise<KubeDocument[]> {
  const [command, args] = kustomizeCommand();
  let text: string;
  try {
    ({ stdout: text } = await execFileAsync(command, [...args, dir], { encoding: "utf8", maxBuffer: 64 << 20 }));
  } catch (error) {
    throw buildError(command, [...args, dir], error);
  }
  return parseDocuments(text);
}

function parseDocuments(text: string): KubeDocument[] {
  return parseAllDocuments(text).map((d) => d.toJS() as KubeDocument).filter((d) => d !== null);
}

function buildError(command: string, args: readonly string[], error: unknown): KustomizeError {
  const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
  return new KustomizeError(`${command} ${args.join(" ")}: ${stderr.split("\n").slice(0, 6).join(" ") || (error as Error).message}`);
}
