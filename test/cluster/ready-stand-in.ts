/**
 * The status that the controllers which do not run beside Argo CD yet would report: the Ready condition of
 * SecretStore and ExternalSecret (External Secrets Operator), ScaledObject (KEDA) and NodePool (Karpenter),
 * and an Ingress's load-balancer address (AWS Load Balancer Controller). Argo CD's built-in health checks
 * call each of them Progressing until that status is there, and an unhealthy resource holds back every
 * later sync wave. This loop writes that status to the status subresource of each such object it finds,
 * and nothing else: no Secret, HPA, node or load balancer is made. It is the only stand-in beside Argo CD
 * (with the volumes of `volumesFor`), and each kind leaves it when its controller runs in the suite.
 */
import type { KubeObject, RawApi } from "./api.js";

export const STAND_IN_REASON = "ControllerNotRunInSuite";

export const STOOD_IN_KINDS = [
  { apiVersion: "external-secrets.io/v1", kind: "SecretStore", plural: "secretstores" },
  { apiVersion: "external-secrets.io/v1", kind: "ExternalSecret", plural: "externalsecrets" },
  { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", plural: "scaledobjects" },
  { apiVersion: "karpenter.sh/v1", kind: "NodePool", plural: "nodepools" },
  { apiVersion: "networking.k8s.io/v1", kind: "Ingress", plural: "ingresses" },
] as const;

interface WithConditions extends KubeObject {
  status?: { conditions?: { type: string; status: string }[]; loadBalancer?: { ingress?: unknown[] } };
}

/** The status the kind's controller writes once it succeeded, or undefined when it is there already. */
function reported(kind: string, object: WithConditions): object | undefined {
  const { namespace, name } = object.metadata;
  if (kind === "Ingress") {
    if (object.status?.loadBalancer?.ingress?.length) return undefined;
    return { loadBalancer: { ingress: [{ hostname: `${name}.${namespace}.elb.e2e.invalid` }] } };
  }
  if (object.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return undefined;
  const lastTransitionTime = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return { conditions: [{ type: "Ready", status: "True", reason: STAND_IN_REASON, message: `${kind} marked Ready by the e2e suite`, lastTransitionTime }] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes that status once to every such object lacking it, as its controller would on success; returns how many. */
export async function markReady(api: RawApi): Promise<number> {
  let marked = 0;
  for (const { apiVersion, kind, plural } of STOOD_IN_KINDS) {
    const list = await api.request<{ items: WithConditions[] }>("GET", `/apis/${apiVersion}/${plural}`);
    for (const object of list.items) {
      const status = reported(kind, object);
      if (!status) continue;
      const { namespace, name } = object.metadata;
      const path = `/apis/${apiVersion}/${namespace ? `namespaces/${namespace}/` : ""}${plural}/${name}/status`;
      try {
        await api.request("PATCH", path, JSON.stringify({ status }), "application/merge-patch+json");
        marked++;
      } catch {
        // deleted meanwhile, or a newer version to patch on the next round
      }
    }
  }
  return marked;
}

/** Runs `markReady` every second until the returned stop function is called. */
export function standInForReadiness(api: RawApi): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      await markReady(api).catch(() => 0);
      await sleep(1000);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}
