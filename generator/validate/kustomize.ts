/** Renders a kustomization with the real tool: `kustomize build` if installed, else `kubectl kustomize`. */
import { execFileSync } from "node:child_process";
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

let tool: [string, string[]] | undefined;

export function kustomizeCommand(): [string, string[]] {
  if (tool) return tool;
  if (runs("kustomize", ["version"])) tool = ["kustomize", ["build"]];
  else if (runs("kubectl", ["version", "--client"])) tool = ["kubectl", ["kustomize"]];
  else throw new Error("neither kustomize nor kubectl is installed: install one of them to render the overlays");
  return tool;
}

export function kustomizeBuild(dir: string): KubeDocument[] {
  const [command, args] = kustomizeCommand();
  const text = execFileSync(command, [...args, dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  return parseAllDocuments(text).map((d) => d.toJS() as KubeDocument).filter((d) => d !== null);
}
