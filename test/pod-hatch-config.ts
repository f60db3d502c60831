/**
 * A config change putting an escape hatch of every kind on every workload, shared and per environment, and
 * two raw patches in prod: what the hatch tests generate, render and run on the control plane.
 */
export function withHatches(data: any): void {
  const volume = { name: "team-ca", configMap: { name: "team-ca-bundle" } };
  const mount = { name: "team-ca", mountPath: "/etc/ssl/team", readOnly: true };
  const resources = { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } };
  const every = (workload: string) => ({
    extraEnv: [{ name: "TEAM", value: workload }, { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
    extraEnvFrom: [{ configMapRef: { name: "team-settings", optional: true } }],
    extraVolumes: [volume],
    extraVolumeMounts: [mount],
    extraContainers: [{ name: "shipper", image: "registry.example.com/tools/shipper:1.0.0", volumeMounts: [mount], resources }],
    extraInitContainers: [{ name: "warm-up", image: "registry.example.com/tools/warm-up:1.0.0", resources }],
    podAnnotations: { "example.com/owner": "data-platform" },
    podLabels: { "cost-center": "cc-42" },
    imagePullSecrets: ["private-registry"],
    nodeSelector: { "kubernetes.io/arch": "amd64" },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "airflow", effect: "NoSchedule" }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "example.com/pool", operator: "In", values: ["airflow"] }] }] } } },
    priorityClassName: "team-critical",
    ...(workload === "worker" ? {} : { terminationGracePeriodSeconds: 77 }),
  });
  data.pods = Object.fromEntries(["apiServer", "scheduler", "dagProcessor", "triggerer", "statsd", "worker", "jobs", "dagSync"].map((w) => [w, every(w)]));
  data.pods.gitSync = { extraEnv: [{ name: "GIT_SSL_CAINFO", value: "/etc/ssl/team/ca.pem" }] };
  data.pods.builder = { extraEnv: [{ name: "BUILDER_TEAM", value: "data" }] };
  data.environments.prod.pods = {
    scheduler: {
      extraEnv: [{ name: "PROD_ONLY", value: "yes" }],
      extraContainers: [{ name: "prod-proxy", image: "registry.example.com/tools/proxy:2.0.0", resources }],
      podLabels: { tier: "gold" },
      tolerations: [{ key: "prod", operator: "Exists", effect: "NoSchedule" }],
    },
    worker: { podAnnotations: { "example.com/tier": "gold" } },
  };
  data.environments.prod.patches = [
    { target: { kind: "Deployment", name: "airflow-api-server" }, strategicMerge: { spec: { template: { spec: { hostAliases: [{ ip: "10.0.0.10", hostnames: ["ldap.internal"] }] } } } } },
    { target: { kind: "Service", name: "airflow-api-server" }, jsonPatch: [{ op: "add", path: "/metadata/annotations/example.com~1owner", value: "data-platform" }] },
  ];
}
