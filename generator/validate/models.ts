/**
 * Validation with the `kubernetes-models` and `@kubernetes-models/*` packages, which ship with
 * `npm ci`: types, required fields and enums of built-in kinds and of the custom resources written.
 * They accept unknown fields, so they complement, not replace, the unknown-field check. The kinds a
 * repository like this holds are imported up front (one bundle, compiled once); any other kind is
 * looked up in the packages on first use.
 */
import { AppProject, Application, ApplicationSet } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1";
import { ClusterSecretStore, ExternalSecret, SecretStore } from "@kubernetes-models/external-secrets/external-secrets.io/v1";
import { NodePool } from "@kubernetes-models/karpenter/karpenter.sh/v1";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { DaemonSet, Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { CronJob, Job } from "kubernetes-models/batch/v1";
import { Ingress, IngressClass, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { PriorityClass } from "kubernetes-models/scheduling.k8s.io/v1";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1";
import {
  ConfigMap,
  LimitRange,
  Namespace,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-models/v1";
import type { SchemaProblem } from "./schema-dir.js";

type ModelClass = new (data: unknown) => { validate(): void };

const KNOWN: Readonly<Record<string, ModelClass>> = Object.fromEntries(
  (
    [
      ["v1", [ConfigMap, LimitRange, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota, Secret, Service, ServiceAccount]],
      ["apps/v1", [DaemonSet, Deployment, StatefulSet]],
      ["autoscaling/v2", [HorizontalPodAutoscaler]],
      ["batch/v1", [CronJob, Job]],
      ["networking.k8s.io/v1", [Ingress, IngressClass, NetworkPolicy]],
      ["policy/v1", [PodDisruptionBudget]],
      ["rbac.authorization.k8s.io/v1", [ClusterRole, ClusterRoleBinding, Role, RoleBinding]],
      ["scheduling.k8s.io/v1", [PriorityClass]],
      ["storage.k8s.io/v1", [StorageClass]],
      ["keda.sh/v1alpha1", [ScaledObject]],
      ["karpenter.sh/v1", [NodePool]],
      ["monitoring.coreos.com/v1", [PrometheusRule, ServiceMonitor]],
      ["external-secrets.io/v1", [ClusterSecretStore, ExternalSecret, SecretStore]],
      ["argoproj.io/v1alpha1", [AppProject, Application, ApplicationSet]],
    ] as const
  ).flatMap(([apiVersion, classes]) => classes.map((c) => [`${apiVersion}/${(c as unknown as { kind: string }).kind}`, c as unknown as ModelClass])),
);

/** The package of each custom resource group, for kinds outside KNOWN. */
const CRD_PACKAGES: Readonly<Record<string, string>> = {
  "keda.sh": "@kubernetes-models/keda",
  "karpenter.sh": "@kubernetes-models/karpenter",
  "external-secrets.io": "@kubernetes-models/external-secrets",
  "argoproj.io": "@kubernetes-models/argo-cd",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const looked = new Map<string, ModelClass | null>();

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass | null> {
  const key = `${apiVersion}/${kind}`;
  if (KNOWN[key]) return KNOWN[key];
  if (!looked.has(key)) {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const crdPackage = group ? CRD_PACKAGES[group] : undefined;
    const specifier = crdPackage ? `${crdPackage}/${group}/${version}` : group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
    const module = (await import(specifier).catch(() => ({}))) as Record<string, ModelClass | undefined>;
    looked.set(key, module[kind] ?? null);
  }
  return looked.get(key)!;
}

/** undefined when no model exists for the kind. */
export async function validateWithModels(object: { apiVersion: string; kind: string }): Promise<SchemaProblem[] | undefined> {
  const Model = await modelClass(object.apiVersion, object.kind);
  if (!Model) return undefined;
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const details = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (details?.length) return details.map((d) => ({ path: d.instancePath || "/", message: d.message ?? "invalid" }));
    return [{ path: "/", message: error instanceof Error ? error.message : String(error) }];
  }
}
