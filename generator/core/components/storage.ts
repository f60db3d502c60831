/**
 * EFS for DAGs and task logs: a StorageClass that provisions one access point per claim, and two
 * ReadWriteMany claims. The access point writes every file as the Airflow user, whoever writes it.
 */
import { PersistentVolumeClaim, StorageClass } from "../kinds.js";
import type { Target } from "../target.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { AIRFLOW_UID } from "../paths.js";
import type { Manifest } from "./types.js";

export function storage(config: Target): Manifest[] {
  const n = names(config);
  const storageClass = new StorageClass({
    metadata: { name: n.storageClass, labels: labels(config, "airflow") },
    provisioner: "efs.csi.aws.com",
    parameters: {
      provisioningMode: "efs-ap",
      fileSystemId: config.storage.efs.fileSystemId,
      directoryPerms: "775",
      uid: String(AIRFLOW_UID),
      gid: "0",
      // A claim that is deleted and created again finds its files in the same directory.
      subPathPattern: "${.PVC.namespace}/${.PVC.name}",
      ensureUniqueDirectory: "false",
    },
    reclaimPolicy: "Retain",
    volumeBindingMode: "Immediate",
  });
  const claim = (name: string, size: string) =>
    new PersistentVolumeClaim({
      metadata: {
        name,
        namespace: n.namespace,
        labels: labels(config, "airflow"),
        // Data: Argo CD never prunes a claim dropped from git, nor deletes it with its Application; a person does.
        annotations: { "argocd.argoproj.io/sync-options": "Prune=false,Delete=false" },
      },
      spec: {
        accessModes: ["ReadWriteMany"],
        storageClassName: n.storageClass,
        resources: { requests: { storage: size } },
      },
    });
  return [
    { component: "efs", object: toKubeObject(storageClass) },
    { component: "dags", object: toKubeObject(claim(n.dagsClaim, config.storage.dags.size)) },
    ...(config.storage.logs.volume ? [{ component: "logs", object: toKubeObject(claim(n.logsClaim, config.storage.logs.size)) }] : []),
  ];
}
