/**
 * `npm run cluster -- up`: starts the local control plane, leaves it running and prints the path of its
 * kubeconfig. `npm run cluster -- down`: stops every process `up` started and removes its files.
 */
import { Command } from "commander";
import { anyRunning, clearState, readState, startCluster, stopCluster, writeState } from "./cluster.js";

const program = new Command("cluster").description("A throwaway Kubernetes control plane on 127.0.0.1 to try overlays against");

program
  .command("up")
  .description("start etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok and a simulated fleet; print the kubeconfig path")
  .option("--config <file>", "config whose region and peak-hour node pools shape the fleet", "airflow-gitops.yaml")
  .action(async (options: { config: string }) => {
    const previous = readState();
    if (previous && anyRunning(previous)) {
      throw new UsageError(`a local cluster is already running (kubeconfig ${previous.kubeconfig}); run \`npm run cluster -- down\` first`);
    }
    clearState();
    const cluster = await startCluster({ config: options.config, log: (line) => process.stderr.write(`${line}\n`) });
    writeState(cluster.state);
    process.stderr.write(`control plane at ${cluster.state.server}; logs in ${cluster.state.logsDir}; stop it with \`npm run cluster -- down\`\n`);
    process.stdout.write(`${cluster.kubeconfigPath}\n`);
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
