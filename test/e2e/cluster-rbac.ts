/** The permissions table every overlay must meet, checked with SubjectAccessReview for each ServiceAccount. */
import type { KubeObject, RawApi } from "../cluster/index.js";

interface Check {
  verb: string;
  resource: string;
  subresource?: string;
  /** Another namespace than the overlay's, to prove the grant is namespaced. */
  elsewhere?: boolean;
}

const POD_LAUNCHING: Check[] = ["create", "get", "list", "watch", "patch", "delete"].map((verb) => ({ verb, resource: "pods" }));
const POD_LOGS: Check = { verb: "get", resource: "pods", subresource: "log" };
const POD_CLEANING: Check[] = ["list", "delete"].map((verb) => ({ verb, resource: "pods" }));

/** What each component's account must be allowed in its namespace; everything else probed must be denied. */
function mustAllow(component: string): Check[] {
  if (component === "scheduler") return [...POD_LAUNCHING, POD_LOGS];
  if (component === "api-server") return [POD_LOGS];
  if (component === "failed-pod-cleanup") return POD_CLEANING;
  return [];
}

/**
 * Allowed by the generator's design but not required: log readers find the task pod before reading its
 * log (get/list/watch pods), and the triggerer reads task logs as the API server does.
 */
function mayAllow(component: string): Check[] {
  const findPods = ["get", "list", "watch"].map((verb) => ({ verb, resource: "pods" }));
  if (component === "api-server") return findPods;
  if (component === "triggerer") return [...findPods, POD_LOGS];
  return [];
}

const PROBES: Check[] = [
  ...POD_LAUNCHING,
  POD_LOGS,
  ...["get", "list", "watch", "create", "update", "delete"].map((verb) => ({ verb, resource: "secrets" })),
  { verb: "create", resource: "pods", elsewhere: true },
  { verb: "list", resource: "pods", elsewhere: true },
  { verb: "get", resource: "pods", subresource: "log", elsewhere: true },
  { verb: "get", resource: "secrets", elsewhere: true },
  { verb: "create", resource: "roles" },
  { verb: "create", resource: "rolebindings" },
  { verb: "update", resource: "configmaps" },
];

const label = (c: Check) => `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ""}`;

async function allowed(api: RawApi, namespace: string, account: string, check: Check): Promise<boolean> {
  const review = await api.request<{ status: { allowed: boolean } }>(
    "POST",
    "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    JSON.stringify({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: `system:serviceaccount:${namespace}:${account}`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
        resourceAttributes: { namespace: check.elsewhere ? "default" : namespace, verb: check.verb, resource: check.resource, subresource: check.subresource ?? "" },
      },
    }),
  );
  return review.status.allowed;
}

/** Each departure from the table, naming the account, the permission and the Roles bound to it. */
export async function rbacProblems(api: RawApi, objects: KubeObject[], prefix: string): Promise<string[]> {
  const problems: string[] = [];
  const accounts = objects.filter((o) => o.kind === "ServiceAccount");
  const bindings = objects.filter((o) => o.kind === "RoleBinding") as (KubeObject & { subjects?: { name: string }[]; roleRef: { name: string } })[];
  for (const account of accounts) {
    const namespace = account.metadata.namespace!;
    const name = account.metadata.name;
    const component = name.startsWith(`${prefix}-`) ? name.slice(prefix.length + 1) : name;
    const roles = bindings.filter((b) => b.subjects?.some((s) => s.name === name)).map((b) => `Role ${b.roleRef.name} via RoleBinding ${b.metadata.name}`);
    const via = roles.length ? ` (bound: ${roles.join(", ")})` : " (no RoleBinding)";
    const allow = mustAllow(component);
    for (const check of PROBES) {
      const should = !check.elsewhere && allow.some((a) => label(a) === label(check));
      const is = await allowed(api, namespace, name, check);
      if (is && !check.elsewhere && mayAllow(component).some((a) => label(a) === label(check))) continue;
      if (is !== should) problems.push(`ServiceAccount ${namespace}/${name} ${is ? "may" : "may not"} ${label(check)}${check.elsewhere ? " in another namespace" : ""}${via}`);
    }
  }
  return problems;
}
