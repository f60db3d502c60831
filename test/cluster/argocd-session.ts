/**
 * `npm run cluster -- up --argocd`: the real Argo CD beside the local control plane, syncing a git copy of
 * the user's generated tree, bootstrapped as the README says (`kubectl apply -k argocd/`, once). The copy is
 * the user's config with `repository.url` pointing at a git server on 127.0.0.1 (the Applications must name
 * the repository Argo CD reads), generated again and committed; commits there are what Argo CD syncs next.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { RawApi, type KubeObject } from "./api.js";
import { startArgoCd, type LocalArgoCd } from "./argocd.js";
import { ensureBinaries } from "./binaries.js";
import type { LocalCluster } from "./cluster.js";
import { gitEnv, startGitServer, type GitServer } from "./git-server.js";
import { serverCertificate } from "./pki.js";
import { standInForReadiness } from "./ready-stand-in.js";
import { volumesFor } from "./wave-apply.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const REPOSITORY = "airflow-gitops";

export interface ArgoCdSession {
  /** The working repository Argo CD syncs from: edit its config, `gen`, commit. */
  repository: string;
  argocd: LocalArgoCd;
  stop(): Promise<void>;
}

export interface ArgoCdSessionOptions {
  cluster: LocalCluster;
  /** The user's config file; its own directory's generated tree is not read, the copy is generated again. */
  config: string;
  /** Write the Ready status the External Secrets, KEDA and Karpenter controllers would report (none runs here). */
  markReady?: boolean;
  reconciliationSeconds?: number;
  log?: (line: string) => void;
}

const kubeObjects = (yaml: string): KubeObject[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);

/** `gen` of the copy, with the generator's own entry point (its errors are the user's, printed as they are). */
function generate(config: string): void {
  try {
    execFileSync(process.execPath, [join(ROOT, "generator", "launch.mjs"), "gen", "--config", config, "-q"], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  } catch (error) {
    throw new Error(`gen failed for the local copy ${config}:\n${(error as { stderr?: string }).stderr ?? String(error)}`);
  }
}

export async function startArgoCdSession(options: ArgoCdSessionOptions): Promise<ArgoCdSession> {
  const log = options.log ?? (() => {});
  const { cluster } = options;
  const api = new RawApi(cluster.kubeConfig());
  const root = join(cluster.state.dir, "git");
  const repository = join(root, REPOSITORY);
  mkdirSync(repository, { recursive: true });
  const tls = serverCertificate(cluster.state.dir, "git-server");
  let git: GitServer | undefined;
  let argocd: LocalArgoCd | undefined;
  let stopStandIn: (() => Promise<void>) | undefined;
  const stop = async () => {
    await stopStandIn?.();
    await argocd?.stop();
    await git?.stop();
  };
  try {
    git = await startGitServer({ root, cert: tls.cert, key: tls.key });
    const config = parse(readFileSync(options.config, "utf8"));
    config.repository = { ...config.repository, url: git.url(REPOSITORY) };
    const file = join(repository, "airflow-gitops.yaml");
    writeFileSync(file, stringify(config));
    generate(file);
    const git$ = (...args: string[]) => execFileSync("git", args, { cwd: repository, env: gitEnv(repository), encoding: "utf8" }).trim();
    git$("init", "-q", "-b", config.repository.revision ?? "main");
    git$("add", "-A");
    git$("commit", "-q", "-m", "the generated repository");
    log(`git: ${git.url(REPOSITORY)} serves ${repository}`);

    const { kustomize } = await ensureBinaries();
    const build = (dir: string) => kubeObjects(execFileSync(kustomize, ["build", join(repository, dir)], { encoding: "utf8", maxBuffer: 64 << 20 }));
    const applications = build("argocd").filter((o) => o.kind === "Application");
    if (build("argocd/apps").some((o) => o.kind === "ApplicationSet")) {
      throw new Error("argocd.mode is applicationSet: the ApplicationSet controller does not run here; try it with argocd.mode: applications");
    }
    // The EFS CSI driver's part: a volume bound to each claim of each environment.
    for (const app of applications) {
      const path = (app.spec as { source?: { path?: string } }).source?.path;
      if (!path?.startsWith("overlays/")) continue;
      for (const volume of volumesFor(build(path))) await api.apply(volume, { fieldManager: "efs-csi-stand-in" });
    }
    // The root Application lives in Argo CD's own namespace, the environments' in theirs.
    const home = applications.find((a) => !(a.spec as { source?: { path?: string } }).source?.path?.startsWith("overlays/"))!.metadata.namespace!;
    argocd = await startArgoCd({
      cluster,
      api,
      kustomize,
      namespace: home,
      applicationNamespaces: [...new Set(applications.map((a) => a.metadata.namespace!))].filter((n) => n !== home),
      tlsCerts: { "127.0.0.1": readFileSync(tls.ca, "utf8") },
      reconciliationSeconds: options.reconciliationSeconds ?? 20,
      log,
    });
    execFileSync("kubectl", ["apply", "-k", "argocd/"], { cwd: repository, env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath }, stdio: "pipe" });
    if (options.markReady) stopStandIn = standInForReadiness(api);
    return { repository, argocd, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
