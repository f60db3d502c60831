/** Renders a kustomization with the real tool: `kustomize build` if installed, else `kubectl kustomize`. */
import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import jsyaml from "js-yaml";

export interface KubeDocument {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Whether an executable of that name is on the PATH (looked up, not run: spawning costs more than a build's parse). */
function onPath(command: string): boolean {
  const extensions = process.platform === "win32" ? (process.env.PATHEXT ?? ".EXE").split(";") : [""];
  return (process.env.PATH ?? "").split(delimiter).some((dir) =>
    extensions.some((ext) => {
      try {
        accessSync(join(dir, command + ext), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/** kustomize is missing, or a build failed: a problem of the user's machine or tree, not a bug. */
export class KustomizeError extends Error {
  override name = "KustomizeError";
}

let tool: [string, string[]] | undefined;

export function kustomizeCommand(): [string, string[]] {
  if (tool) return tool;
  if (onPath("kustomize")) tool = ["kustomize", ["build"]];
  else if (onPath("kubectl")) tool = ["kubectl", ["kustomize"]];
  else throw new KustomizeError("neither kustomize nor kubectl is installed: install one of them to render the overlays");
  return tool;
}

export function kustomizeBuild(dir: string): KubeDocument[] {
  return parseDocuments(kustomizeBuildText(dir));
}

/** The build as kustomize prints it, waiting for it. */
export function kustomizeBuildText(dir: string): string {
  const [command, args] = kustomizeCommand();
  try {
    return execFileSync(command, [...args, dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (error) {
    throw buildError(command, [...args, dir], error);
  }
}

const execFileAsync = promisify(execFile);

/** kustomizeBuild without blocking, so several builds can run at once. */
export async function kustomizeBuildAsync(dir: string): Promise<KubeDocument[]> {
  return parseDocuments(await kustomizeBuildTextAsync(dir));
}

/** The build as kustomize prints it. */
export async function kustomizeBuildTextAsync(dir: string): Promise<string> {
  const [command, args] = kustomizeCommand();
  try {
    return (await execFileAsync(command, [...args, dir], { encoding: "utf8", maxBuffer: 64 << 20 })).stdout;
  } catch (error) {
    throw buildError(command, [...args, dir], error);
  }
}

export function parseDocuments(text: string): KubeDocument[] {
  return (jsyaml.loadAll(text, undefined, { schema: jsyaml.CORE_SCHEMA }) as (KubeDocument | null)[]).filter((d): d is KubeDocument => d !== null);
}

function buildError(command: string, args: readonly string[], error: unknown): KustomizeError {
  const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
  return new KustomizeError(`${command} ${args.join(" ")}: ${stderr.split("\n").slice(0, 6).join(" ") || (error as Error).message}`);
}
