/**
 * Whether NetworkPolicies admit a connection, by the rules of the Kubernetes NetworkPolicy API
 * (networking.k8s.io/v1, "Network Policies" in the Kubernetes docs):
 * - a pod is isolated for egress (ingress) when a policy of its namespace selects it and lists Egress
 *   (Ingress) in policyTypes; a pod no policy isolates allows every connection in that direction;
 * - an isolated pod allows a connection when some selecting policy has a rule whose peers match (no `to`
 *   or `from` matches everything) and whose ports match (no `ports` matches every port and protocol);
 * - a peer with a podSelector alone means pods of the policy's namespace; a namespaceSelector alone, every
 *   pod of the selected namespaces; both, the selected pods of the selected namespaces; an ipBlock, the
 *   addresses in its cidr and not in its excepts (used here for destinations outside the cluster only);
 * - a connection between two pods needs the source's egress and the destination's ingress to allow it.
 * The protocol defaults to TCP; `endPort` widens a port to a range.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PortRule {
  protocol?: string;
  port?: number;
  endPort?: number;
}

export interface Policy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ("Ingress" | "Egress")[];
    ingress?: { from?: Peer[]; ports?: PortRule[] }[];
    egress?: { to?: Peer[]; ports?: PortRule[] }[];
  };
}

export interface PodEnd {
  namespace: string;
  labels: Record<string, string>;
  /** The namespace's labels (kubernetes.io/metadata.name is always there). */
  namespaceLabels?: Record<string, string>;
}

export type Destination = { pod: PodEnd } | { ip: string };

export function matches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const ok =
      e.operator === "In" ? has && (e.values ?? []).includes(labels[e.key]!)
      : e.operator === "NotIn" ? !has || !(e.values ?? []).includes(labels[e.key]!)
      : e.operator === "Exists" ? has
      : !has;
    if (!ok) return false;
  }
  return true;
}

function ipNumber(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/") as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}

const namespaceLabelsOf = (end: PodEnd) => ({ "kubernetes.io/metadata.name": end.namespace, ...end.namespaceLabels });

function peerMatches(peer: Peer, policyNamespace: string, other: Destination | { pod: PodEnd }): boolean {
  if (peer.ipBlock) {
    if (!("ip" in other)) return false;
    return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
  }
  if (!("pod" in other)) return false;
  const end = other.pod;
  const namespaceOk = peer.namespaceSelector ? matches(peer.namespaceSelector, namespaceLabelsOf(end)) : end.namespace === policyNamespace;
  return namespaceOk && (peer.podSelector ? matches(peer.podSelector, end.labels) : true);
}

function portMatches(rules: PortRule[] | undefined, port: number, protocol: string): boolean {
  if (!rules || rules.length === 0) return true;
  return rules.some((r) => (r.protocol ?? "TCP") === protocol && (r.port === undefined || (r.endPort === undefined ? r.port === port : port >= r.port && port <= r.endPort)));
}

function direction(policies: readonly Policy[], pod: PodEnd, type: "Ingress" | "Egress", other: Destination | { pod: PodEnd }, port: number, protocol: string): boolean {
  const selecting = policies.filter(
    (p) => (p.metadata.namespace ?? "") === pod.namespace && matches(p.spec.podSelector, pod.labels) && (p.spec.policyTypes ?? ["Ingress"]).includes(type),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (type === "Egress" ? (p.spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports })) : (p.spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))).some(
      (rule) => (!rule.peers || rule.peers.length === 0 || rule.peers.some((peer) => peerMatches(peer, pod.namespace, other))) && portMatches(rule.ports, port, protocol),
    ),
  );
}

/** Whether a connection from `from` to `to` on `port`/`protocol` is allowed. */
export function allowed(policies: readonly Policy[], from: PodEnd, to: Destination, port: number, protocol = "TCP"): boolean {
  if (!direction(policies, from, "Egress", to, port, protocol)) return false;
  return "pod" in to ? direction(policies, to.pod, "Ingress", { pod: from }, port, protocol) : true;
}
