/**
 * The cluster's own objects an escape hatch names (a team's ConfigMap, Secret, PriorityClass or claim):
 * no build holds them, so the pod template declares them in an annotation, and `validate` takes them as
 * present instead of reporting each as missing from the build. They must exist in the cluster.
 */
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IVolume } from "kubernetes-models/v1/Volume";

export const CLUSTER_REFERENCES_ANNOTATION = "airflow-gitops.io/cluster-references";

interface Named {
  kind: string;
  name: string | undefined;
}

function ofContainer(c: Pick<IContainer, "env" | "envFrom">): Named[] {
  return [
    ...(c.env ?? []).flatMap((e) => [
      { kind: "ConfigMap", name: e.valueFrom?.configMapKeyRef?.name },
      { kind: "Secret", name: e.valueFrom?.secretKeyRef?.name },
    ]),
    ...(c.envFrom ?? []).flatMap((f) => [
      { kind: "ConfigMap", name: f.configMapRef?.name },
      { kind: "Secret", name: f.secretRef?.name },
    ]),
  ];
}

function ofVolume(v: IVolume): Named[] {
  return [
    { kind: "ConfigMap", name: v.configMap?.name },
    { kind: "Secret", name: v.secret?.secretName },
    { kind: "PersistentVolumeClaim", name: v.persistentVolumeClaim?.claimName },
    ...(v.projected?.sources ?? []).flatMap((s) => [
      { kind: "ConfigMap", name: s.configMap?.name },
      { kind: "Secret", name: s.secret?.name },
    ]),
  ];
}

/** `Kind/name` of every object the hatches' values name, sorted, as the annotation lists them. */
export function clusterReferences(parts: {
  containers: readonly Pick<IContainer, "env" | "envFrom">[];
  volumes: readonly IVolume[];
  priorityClassName?: string;
}): string[] {
  const named = [
    ...parts.containers.flatMap(ofContainer),
    ...parts.volumes.flatMap(ofVolume),
    { kind: "PriorityClass", name: parts.priorityClassName },
  ];
  return [...new Set(named.filter((n) => n.name).map((n) => `${n.kind}/${n.name}`))].sort();
}
