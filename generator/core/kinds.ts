/**
 * Constructors for every kind the generator writes, typed by the `kubernetes-models` interfaces but
 * without their runtime: a generated object is plain data (`apiVersion`, `kind`, then the fields
 * given), and the models' validators run where objects are checked, not on every generation.
 * `new Deployment({...})` reads as with the model classes and is checked against the same types.
 */
import type { IAppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject";
import type { IApplication } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application";
import type { IApplicationSet } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet";
import type { IClusterSecretStore } from "@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore";
import type { IExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret";
import type { ISecretStore } from "@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore";
import type { INodePool } from "@kubernetes-models/karpenter/karpenter.sh/v1/NodePool";
import type { IPrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { ICronJob } from "kubernetes-models/batch/v1/CronJob";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import type { IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { IPriorityClass } from "kubernetes-models/scheduling.k8s.io/v1/PriorityClass";
import type { IValidatingAdmissionPolicy } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy";
import type { IValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding";
import type { IStorageClass } from "kubernetes-models/storage.k8s.io/v1/StorageClass";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import type { IPod } from "kubernetes-models/v1/Pod";
import type { IService } from "kubernetes-models/v1/Service";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";

type Kind = { apiVersion: string; kind: string };
type Constructor<T extends Kind> = new (data: Omit<T, "apiVersion" | "kind">) => T;

function kind<T extends Kind>(apiVersion: T["apiVersion"], kind: T["kind"]): Constructor<T> {
  return class {
    constructor(data: Omit<T, "apiVersion" | "kind">) {
      Object.assign(this, { apiVersion, kind }, data);
    }
  } as unknown as Constructor<T>;
}

export const Namespace = kind<INamespace>("v1", "Namespace");
export const ServiceAccount = kind<IServiceAccount>("v1", "ServiceAccount");
export const ConfigMap = kind<IConfigMap>("v1", "ConfigMap");
export const Service = kind<IService>("v1", "Service");
export const PersistentVolumeClaim = kind<IPersistentVolumeClaim>("v1", "PersistentVolumeClaim");
export const Pod = kind<IPod>("v1", "Pod");
export const Deployment = kind<IDeployment>("apps/v1", "Deployment");
export const Job = kind<IJob>("batch/v1", "Job");
export const CronJob = kind<ICronJob>("batch/v1", "CronJob");
export const HorizontalPodAutoscaler = kind<IHorizontalPodAutoscaler>("autoscaling/v2", "HorizontalPodAutoscaler");
export const Ingress = kind<IIngress>("networking.k8s.io/v1", "Ingress");
export const NetworkPolicy = kind<INetworkPolicy>("networking.k8s.io/v1", "NetworkPolicy");
export const PodDisruptionBudget = kind<IPodDisruptionBudget>("policy/v1", "PodDisruptionBudget");
export const Role = kind<IRole>("rbac.authorization.k8s.io/v1", "Role");
export const RoleBinding = kind<IRoleBinding>("rbac.authorization.k8s.io/v1", "RoleBinding");
export const PriorityClass = kind<IPriorityClass>("scheduling.k8s.io/v1", "PriorityClass");
export const StorageClass = kind<IStorageClass>("storage.k8s.io/v1", "StorageClass");
export const ValidatingAdmissionPolicy = kind<IValidatingAdmissionPolicy>("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy");
export const ValidatingAdmissionPolicyBinding = kind<IValidatingAdmissionPolicyBinding>("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding");
export const ScaledObject = kind<IScaledObject>("keda.sh/v1alpha1", "ScaledObject");
export const NodePool = kind<INodePool>("karpenter.sh/v1", "NodePool");
export const ServiceMonitor = kind<IServiceMonitor>("monitoring.coreos.com/v1", "ServiceMonitor");
export const PrometheusRule = kind<IPrometheusRule>("monitoring.coreos.com/v1", "PrometheusRule");
export const ExternalSecret = kind<IExternalSecret>("external-secrets.io/v1", "ExternalSecret");
export const SecretStore = kind<ISecretStore>("external-secrets.io/v1", "SecretStore");
export const ClusterSecretStore = kind<IClusterSecretStore>("external-secrets.io/v1", "ClusterSecretStore");
export const Application = kind<IApplication>("argoproj.io/v1alpha1", "Application");
export const AppProject = kind<IAppProject>("argoproj.io/v1alpha1", "AppProject");
export const ApplicationSet = kind<IApplicationSet>("argoproj.io/v1alpha1", "ApplicationSet");

/** Every constructor, by kind, for the test that holds them equal to the model classes. */
export const KINDS = {
  Namespace, ServiceAccount, ConfigMap, Service, PersistentVolumeClaim, Pod, Deployment, Job, CronJob, HorizontalPodAutoscaler, Ingress,
  NetworkPolicy, PodDisruptionBudget, Role, RoleBinding, PriorityClass, StorageClass, ScaledObject, NodePool, ExternalSecret,
  SecretStore, ClusterSecretStore, ServiceMonitor, PrometheusRule, Application, AppProject, ApplicationSet, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
} as const;
