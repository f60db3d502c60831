/**
 * Ingress and egress are denied by default; the allows below are exactly what Airflow needs: the load
 * balancer and every Airflow pod reach the api-server, every Airflow pod sends metrics to statsd and
 * Prometheus scrapes it, and the api-server fetches the logs of running triggers from the triggerer.
 * The egress allows are in egress-policies.ts.
 */
import { NetworkPolicy } from "../kinds.js";
import type { Target } from "../target.js";
import { instanceSelector, labels, selectorLabels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { API_SERVER_PORT, STATSD_INGEST_PORT, STATSD_SCRAPE_PORT, TRIGGERER_LOG_PORT } from "../paths.js";
import type { Manifest } from "./types.js";
import { egressPolicies } from "./egress-policies.js";

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
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
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
    metadata: meta("triggerer-logs"),
    spec: {
      // Task pods serve no logs (they write them to the shared volume or S3); a running triggerer does.
      podSelector: { matchLabels: selectorLabels(config, "triggerer") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: selectorLabels(config, "api-server") } }],
          ports: [{ protocol: "TCP", port: TRIGGERER_LOG_PORT }],
        },
      ],
    },
  });
  return [
    ...egressPolicies(config),
    { component: "default-deny", object: toKubeObject(defaultDeny) },
    { component: "api-server", object: toKubeObject(apiServer) },
    { component: "statsd", object: toKubeObject(statsd) },
    { component: "triggerer-logs", object: toKubeObject(logServers) },
  ];
}
