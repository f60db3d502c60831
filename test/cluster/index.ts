/**
 * The local control plane for tests:
 *
 *   const cluster = await startCluster();          // builds binaries once (cached), starts everything
 *   const kc = cluster.kubeConfig();               // @kubernetes/client-node KubeConfig (admin)
 *   cluster.kubeconfigPath                         // the kubeconfig file, for CLIs
 *   await cluster.stop({ keepLogs: failed });      // stops every process by pid, removes the temp dir
 */
export { ApiError, RawApi, type KubeObject } from "./api.js";
export { binDir, BuildError, ensureBinaries, ensureExternalSecrets, externalSecretsVersion, type Binaries } from "./binaries.js";
export { LocalCluster, startCluster, stopCluster, type ClusterState, type StartOptions } from "./cluster.js";
export { CRD_SOURCES } from "./crds.js";
export { EXTERNAL_SECRETS_USER, ExternalSecretsController } from "./external-secrets.js";
export { FLEET_LABEL } from "./fleet.js";
export { ComponentError } from "./processes.js";
export { describe as describeObject, FIELD_MANAGER, WaveApplyError, applyInWaves, waveSteps, unhealthy, volumesFor, waitUntilDeleted } from "./wave-apply.js";
