/**
 * `npm run cluster -- up`: starts the local control plane, leaves it running and prints the path of its
 * kubeconfig. `npm run cluster -- down`: stops every process `up` started and removes its files.
 * `up --argocd` also runs the real Argo CD syncing a local git copy of the generated tree, in the foreground
 * until interrupted, then stops everything.
 */
import { Command } from "commander";
import { startArgoCdSession } from "./argocd-session.js";
import { anyRunning, clearState, readState, startCluster, stopCluster, writeState } from "./cluster.js";

const program = new Command("cluster").description("A throwaway Kubernetes control plane on 127.0.0.1 to try overlays against");

program
  .command("up")
  .description("start etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and a simulated fleet; print the kubeconfig path")
  .option("--config <file>", "config whose region and peak-hour node pools shape the fleet", "airflow-gitops.yaml")
  .option("--argocd", "also run Argo CD (application-controller, repo-server, Redis) syncing a local git copy of the config's generated tree; stays in the foreground until Ctrl-C")
  .option("--mark-ready", "with --argocd: write the Ready status the External Secrets, KEDA and Karpenter controllers would report (none runs here), so the sync passes their waves")
  .action(async (options: { config: string; argocd?: boolean; markReady?: boolean }) => {
    const previous = readState();
    if (previous && anyRunning(previous)) {
      throw new UsageError(`a local cluster is already running (kubeconfig ${previous.kubeconfig}); run \`npm run cluster -- down\` first`);
    }
    if (options.markReady && !options.argocd) throw new UsageError("--mark-ready needs --argocd");
    clearState();
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const cluster = await startCluster({ config: options.config, log });
    writeState(cluster.state);
    if (!options.argocd) {
      process.stderr.write(`control plane at ${cluster.state.server}; logs in ${cluster.state.logsDir}; stop it with \`npm run cluster -- down\`\n`);
      process.stdout.write(`${cluster.kubeconfigPath}\n`);
      return;
    }
    let session;
    try {
      session = await startArgoCdSession({ cluster, config: options.config, markReady: options.markReady, log });
    } catch (error) {
      await stopCluster(cluster.state);
      clearState();
      throw error;
    }
    // `down` stops these too, should this process end without stopping them.
    writeState({ ...cluster.state, components: [...cluster.state.components, ...session.argocd.components] });
    const config = `${session.repository}/airflow-gitops.yaml`;
    process.stderr.write(
      [
        `Argo CD is syncing ${session.repository} (bootstrapped with \`kubectl apply -k argocd/\`).`,
        `  watch:  KUBECONFIG=${cluster.kubeconfigPath} kubectl get applications -A -w`,
        `  change: edit ${config}, then \`npm run gen -- --config ${config}\` and \`git -C ${session.repository} commit -am "..."\``,
        ...(options.markReady ? [] : ["  without --mark-ready the sync waits at the first wave of ExternalSecrets, ScaledObjects and NodePools: no controller of theirs runs here"]),
        "Ctrl-C stops Argo CD, the git server and the control plane.",
      ].join("\n") + "\n",
    );
    process.stdout.write(`${cluster.kubeconfigPath}\n`);
    await new Promise<void>((done) => {
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => done());
    });
    await session.stop();
    await stopCluster(cluster.state);
    clearState();
    process.stderr.write("stopped Argo CD, the git server and the control plane\n");
  });

program
  .command("down")
  .description("stop every process `up` started and remove its temporary files")
  .action(async () => {
    const state = readState();
    if (!state) {
      process.stderr.write("no local cluster is recorded as running\n");
      return;
    }
    await stopCluster(state);
    clearState();
    process.stderr.write(`stopped ${state.components.map((c) => `${c.name} (pid ${c.pid})`).join(", ")}\n`);
  });

class UsageError extends Error {}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Every failure here is about the machine or a component (named, with its log), not a bug to trace.
  process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
