/**
 * Egress is denied by default (see network-policies.ts); these allow exactly what each component needs.
 * Inside the cluster the peers are known (DNS, the api-server's Execution API, statsd, the triggerer's log
 * port); outside it the addresses are not (RDS, the EKS endpoint, AWS APIs, git), so those flows are allowed
 * by port to any address but the instance metadata endpoint, which no pod reaches: its node credentials are
 * not the pods'. Task code gets `network.taskEgress`.
 */
import type { INetworkPolicyEgressRule } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyEgressRule";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import { NetworkPolicy } from "../kinds.js";
import type { Target } from "../target.js";
import { instanceSelector, labels, selectorLabels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names, type Part } from "../names.js";
import { API_SERVER_PORT, STATSD_INGEST_PORT, TRIGGERER_LOG_PORT } from "../paths.js";
import type { Manifest } from "./types.js";
import { ssoPorts } from "../webserver-config.js";

export const INSTANCE_METADATA = "169.254.169.254/32";
/** The EKS Pod Identity agent, on each node's link-local address. */
const POD_IDENTITY_AGENT = "169.254.170.23/32";

/** `cidr` as a peer, with the metadata endpoint left out when the range holds it. */
export function outside(cidr: string, except: readonly string[] = []): INetworkPolicyPeer {
  const all = contains(cidr, INSTANCE_METADATA) && !except.includes(INSTANCE_METADATA) ? [...except, INSTANCE_METADATA] : [...except];
  return { ipBlock: { cidr, ...(all.length > 0 ? { except: all } : {}) } };
}

function toNumber(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** Whether IPv4 range `outer` holds range `inner`. */
export function contains(outer: string, inner: string): boolean {
  const [oa, ob] = outer.split("/") as [string, string];
  const [ia, ib] = inner.split("/") as [string, string];
  if (Number(ib) < Number(ob)) return false;
  const size = 2 ** (32 - Number(ob));
  return Math.floor(toNumber(ia) / size) === Math.floor(toNumber(oa) / size);
}

const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP" as const, port }));

export function egressPolicies(config: Target): Manifest[] {
  const n = names(config);
  const meta = (what: string) => ({ name: n.networkPolicy(what), namespace: n.namespace, labels: labels(config, "airflow") });
  const of = (parts: readonly Part[]) => ({
    matchLabels: instanceSelector(config),
    matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: [...parts] }],
  });
  const pod = (part: Part): INetworkPolicyPeer => ({ podSelector: { matchLabels: selectorLabels(config, part) } });
  const anywhere = outside("0.0.0.0/0");
  const policy = (what: string, podSelector: object, egress: INetworkPolicyEgressRule[]): Manifest => ({
    component: `egress-${what}`,
    object: toKubeObject(new NetworkPolicy({ metadata: meta(`egress-${what}`), spec: { podSelector, policyTypes: ["Egress"], egress } })),
  });

  const everyPod: INetworkPolicyEgressRule[] = [
    {
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
    // The Execution API (task pods and the DAG processor's callbacks) and metrics.
    { to: [pod("api-server")], ports: tcp(API_SERVER_PORT) },
    { to: [pod("statsd")], ports: [{ protocol: "UDP", port: STATSD_INGEST_PORT }] },
    ...(config.environment?.iam?.mode === "podIdentity" ? [{ to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT } }], ports: tcp(80) }] : []),
  ];
  const network = config.network;
  const https = [...new Set([443, network.kubernetesApiPort])];
  const sso = config.airflow.auth.sso;
  const idpPorts = sso ? ssoPorts(sso).filter((port) => !https.includes(port)) : [];
  const taskRules: INetworkPolicyEgressRule[] = network.taskEgress.map((rule) => ({
    to: [outside(rule.cidr, rule.except)],
    ...(rule.ports.length > 0 ? { ports: tcp(...rule.ports) } : {}),
  }));
  const gitPort = config.dags.gitSync.auth === "ssh" || /^(ssh:\/\/|[^/:]+@)/.test(config.dags.gitSync.repository) ? 22 : 443;
  return [
    policy("every-pod", { matchLabels: instanceSelector(config) }, everyPod),
    policy("database", of(["scheduler", "api-server", "dag-processor", "triggerer", "migrations", "admin-user", "db-clean", "state-store-clean"]), [
      { to: [anywhere], ports: tcp(network.databasePort) },
    ]),
    // The Kubernetes API (pods, their logs) and AWS APIs (STS for IRSA, S3 for remote logs).
    policy("https", of(["scheduler", "api-server", "dag-processor", "triggerer", "failed-pod-cleanup"]), [{ to: [anywhere], ports: tcp(...https) }]),
    // Single sign-on: the api-server fetches tokens and keys from the identity provider.
    ...(idpPorts.length > 0 ? [policy("identity-provider", { matchLabels: selectorLabels(config, "api-server") }, [{ to: [anywhere], ports: tcp(...idpPorts) }])] : []),
    policy("api-server-to-triggerer", { matchLabels: selectorLabels(config, "api-server") }, [{ to: [pod("triggerer")], ports: tcp(TRIGGERER_LOG_PORT) }]),
    policy("git", { matchLabels: selectorLabels(config, "dag-sync") }, [{ to: [anywhere], ports: tcp(gitPort) }]),
    // Task code, and the triggers of deferred tasks, reach what the tasks work on.
    policy("tasks", of(["worker", "triggerer"]), taskRules),
    // Pods that task code launches (KubernetesPodOperator labels them so) resolve names and do the task's work.
    ...(config.components.worker.podLauncher.enabled ? [policy("launched-pods", { matchLabels: { kubernetes_pod_operator: "True" } }, [everyPod[0]!, ...taskRules])] : []),
  ];
}
