/**
 * Ingress is denied by default; the allows below are exactly what Airflow needs: the load balancer
 * and every Airflow pod reach the api-server, every Airflow pod sends metrics to statsd and Prometheus
 * scrapes it, and the api-server fetches logs from running task pods and the triggerer.
 * Egress stays open: the database, git, AWS APIs and the Kubernetes API have addresses that only
 * the cluster's operators know.
 */
import { NetworkPolicy } from "../kinds.js";
import type { Target } from "../target.js";
import { instanceSelector, labels, selectorLabels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { API_SERVER_PORT, STATSD_INGEST_PORT, STATSD_SCRAPE_PORT, TRIGGERER_LOG_PORT, WORKER_LOG_PORT } from "../paths.js";
import type { Manifest } from "./types.js";

/** The VPC ranges; the config rules make sure every environment has some, so a `from` is never empty. */
export function vpcCidrs(config: Target): string[] {
  const cidrs = config.ingress.vpcCidrs ?? [];
  if (cidrs.length === 0 && config.environment) throw new Error(`environment ${config.environment.name}: ingress.vpcCidrs is required`);
  return cidrs.length > 0 ? cidrs : ["0.0.0.0/32"];
}

export function networkPolicies(config: Target): Manifest[] {
  const n = names(config);
  const meta = (what: string) => ({ name: n.networkPolicy(what), namespace: n.namespace, labels: labels(config, "airflow") });
  const airflowPods = { podSelector: { matchLabels: instanceSelector(config) } };

  const defaultDeny = new NetworkPolicy({
    metadata: meta("default-deny"),
    spec: { podSelector: {}, policyTypes: ["Ingress"] },
  });
  const apiServer = new NetworkPolicy({
    metadata: meta("api-server"),
    spec: {
      podSelector: { matchLabels: selectorLabels(config, "api-server") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          // The load balancer (target-type ip) connects from its addresses in the VPC; clients are filtered at the ALB.
          from: vpcCidrs(config).map((cidr) => ({ ipBlock: { cidr } })),
          ports: [{ protocol: "TCP", port: API_SERVER_PORT }],
        },
        { from: [airflowPods], ports: [{ protocol: "TCP", port: API_SERVER_PORT }] },
      ],
    },
  });
  const statsd = new NetworkPolicy({
    metadata: meta("statsd"),
    spec: {
      podSelector: { matchLabels: selectorLabels(config, "statsd") },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [airflowPods], ports: [{ protocol: "UDP", port: STATSD_INGEST_PORT }] },
        { from: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: STATSD_SCRAPE_PORT }] },
      ],
    },
  });
  const logServers = new NetworkPolicy({
    metadata: meta("log-servers"),
    spec: {
      podSelector: {
        matchLabels: instanceSelector(config),
        matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["worker", "triggerer"] }],
      },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: selectorLabels(config, "api-server") } }],
          ports: [
            { protocol: "TCP", port: WORKER_LOG_PORT },
            { protocol: "TCP", port: TRIGGERER_LOG_PORT },
          ],
        },
      ],
    },
  });
  return [
    { component: "default-deny", object: toKubeObject(defaultDeny) },
    { component: "api-server", object: toKubeObject(apiServer) },
    { component: "statsd", object: toKubeObject(statsd) },
    { component: "log-servers", object: toKubeObject(logServers) },
  ];
}
