/**
 * The External Secrets Operator's controller, built from `external-secrets/go.mod`, run beside the local
 * control plane (out of cluster, with a kubeconfig) against an AWS API on 127.0.0.1.
 *
 * Only the controller runs: its webhook only validates objects the CRDs' schemas already check, and the
 * cert controller only serves that webhook; the CRDs convert between versions without a webhook
 * (strategy None), so neither is needed for an ExternalSecret to become a Secret. The reconcilers of the
 * kinds the generated tree never writes (ClusterExternalSecret, PushSecret, ClusterPushSecret) are switched
 * off; SecretStore and ClusterSecretStore (`secrets.store`) run.
 *
 * The AWS SDK of this release (aws-sdk-go v1) ignores `AWS_ENDPOINT_URL*`; the operator reads its own
 * `AWS_SSM_ENDPOINT` and `AWS_STS_ENDPOINT`, for the store's session and for the STS session that turns the
 * ServiceAccount's token into credentials. No AWS credentials, config files or instance metadata are
 * given, so the only way to AWS is the SecretStore's own auth.
 *
 * The controller has a client certificate of its own, user `external-secrets` (so the API server's audit log
 * tells its requests apart), in group `system:masters`: the module ships its ClusterRole only as a Helm
 * template (deploy/charts/external-secrets/templates/rbac.yaml), which the suite does not render.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureExternalSecrets } from "./binaries.js";
import type { ClusterState } from "./cluster.js";
import { clientCertificate, kubeconfigFor } from "./pki.js";
import { freePort, probe, readyOrStopped, startComponent, stopComponent, waitReady, type Component } from "./processes.js";

/** The controller's user name, as the API server (and its audit log) sees it. */
export const EXTERNAL_SECRETS_USER = "external-secrets";

export interface ExternalSecretsOptions {
  cluster: ClusterState;
  /** The AWS API (moto) for SSM and STS. */
  awsEndpoint: string;
  logsDir: string;
  /** A directory of its own (an empty HOME: no AWS files are found there). */
  dir: string;
  log?: (line: string) => void;
}

export class ExternalSecretsController {
  private constructor(
    readonly component: Component,
    readonly metrics: string,
  ) {}

  static async start(options: ExternalSecretsOptions): Promise<ExternalSecretsController> {
    const binary = await ensureExternalSecrets(options.log);
    const port = await freePort();
    mkdirSync(options.dir, { recursive: true });
    const ca = { caCert: join(options.cluster.dir, "ca.crt"), caKey: join(options.cluster.dir, "ca.key") };
    const identity = clientCertificate(options.dir, ca, EXTERNAL_SECRETS_USER, `/O=system:masters/CN=${EXTERNAL_SECRETS_USER}`);
    const kubeconfig = join(options.dir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigFor(options.cluster.server, ca.caCert, EXTERNAL_SECRETS_USER, identity));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: options.dir,
      KUBECONFIG: kubeconfig,
      AWS_SSM_ENDPOINT: options.awsEndpoint,
      AWS_STS_ENDPOINT: options.awsEndpoint,
      AWS_CONFIG_FILE: join(options.dir, "no-aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(options.dir, "no-aws-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const component = startComponent(
      "external-secrets",
      binary,
      [
        `--metrics-addr=127.0.0.1:${port}`,
        "--enable-leader-election=false",
        "--enable-cluster-external-secret-reconciler=false",
        "--enable-push-secret-reconciler=false",
        "--enable-cluster-push-secret-reconciler=false",
        "--loglevel=debug",
        "--zap-time-encoding=iso8601",
      ],
      options.logsDir,
      env,
    );
    const metrics = `http://127.0.0.1:${port}/metrics`;
    await readyOrStopped(component, () => waitReady(component, metrics, async () => (await probe(metrics))?.status === 200, 120_000));
    return new ExternalSecretsController(component, metrics);
  }

  stop(): Promise<void> {
    return stopComponent(this.component);
  }
}
