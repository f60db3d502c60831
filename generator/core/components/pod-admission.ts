/**
 * Who may create pods in the namespace may read every Secret there (a pod can mount any of them) and act as
 * any of its ServiceAccounts. RBAC cannot say which pods; a ValidatingAdmissionPolicy, built into the API
 * server, can: the pods the scheduler launches run as the worker ServiceAccount and reference no Secret, and
 * so do the pods task code launches when `components.worker.podLauncher` allows it (as the worker or the
 * namespace's `default` ServiceAccount). The control plane's own pods come from controllers, not from these
 * two identities, and are not matched.
 */
import { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import type { Manifest } from "./types.js";

const cel = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(", ")}]`;

/** True when no container of the pod, and no volume, reads a Secret. */
const NO_SECRET_REFERENCE = [
  "(!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.secret) && (!has(v.projected) || !has(v.projected.sources) || v.projected.sources.all(s, !has(s.secret)))))",
  ...["containers", "initContainers", "ephemeralContainers"].map(
    (list) =>
      `(!has(object.spec.${list}) || object.spec.${list}.all(c, ` +
      "(!has(c.env) || c.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef))) && " +
      "(!has(c.envFrom) || c.envFrom.all(f, !has(f.secretRef)))))",
  ),
].join(" && ");

/** Per environment (the base belongs to none): the policy names the environment's namespace and identities. */
export function podAdmission(config: Target): Manifest[] {
  if (!config.environment) return [];
  const n = names(config);
  const user = (component: "scheduler" | "worker") => `system:serviceaccount:${n.namespace}:${n.serviceAccount(component)}`;
  const worker = n.serviceAccount("worker");
  const launchers = [user("scheduler"), ...(config.components.worker.podLauncher.enabled ? [user("worker")] : [])];
  const scheduler = user("scheduler");
  const policy = new ValidatingAdmissionPolicy({
    metadata: { name: n.podAdmissionPolicy, labels: labels(config, "airflow") },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }] },
      matchConditions: [{ name: "launched-for-tasks", expression: `request.userInfo.username in ${cel(launchers)}` }],
      variables: [
        { name: "serviceAccount", expression: "has(object.spec.serviceAccountName) ? object.spec.serviceAccountName : 'default'" },
        { name: "allowed", expression: `request.userInfo.username == '${scheduler}' ? ${cel([worker])} : ${cel([worker, "default"])}` },
      ],
      validations: [
        {
          expression: "variables.serviceAccount in variables.allowed",
          messageExpression: "'task pods run as ServiceAccount ' + variables.allowed.join(' or ') + ', not ' + variables.serviceAccount",
          reason: "Forbidden",
        },
        { expression: NO_SECRET_REFERENCE, message: "task pods may not reference a Secret (volume, env or envFrom): the control plane's Secrets are in this namespace", reason: "Forbidden" },
      ],
    },
  });
  const binding = new ValidatingAdmissionPolicyBinding({
    metadata: { name: n.podAdmissionPolicy, labels: labels(config, "airflow") },
    spec: {
      policyName: n.podAdmissionPolicy,
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n.namespace } } },
    },
  });
  return [
    { component: "task-pods", object: toKubeObject(policy) },
    { component: "task-pods", object: toKubeObject(binding) },
  ];
}
