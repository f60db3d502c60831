/**
 * Rules of the escape hatches that need no generated object: each Kubernetes-typed value is a valid
 * value of its API type (no unknown field), extra containers and volumes stay inside Pod Security
 * "restricted", airflow.cfg is not bypassed through env vars, and every raw patch says one thing.
 * Collisions with what the generator makes are checked on the generated pods (core/pod-hatch-checks.ts).
 */
import { Affinity } from "kubernetes-models/v1/Affinity";
import { Container } from "kubernetes-models/v1/Container";
import { EnvFromSource } from "kubernetes-models/v1/EnvFromSource";
import { EnvVar } from "kubernetes-models/v1/EnvVar";
import { Toleration } from "kubernetes-models/v1/Toleration";
import { Volume } from "kubernetes-models/v1/Volume";
import { VolumeMount } from "kubernetes-models/v1/VolumeMount";
import { unknownFieldsOf } from "../validate/unknown-fields.js";
import { joinPath, type ConfigIssue } from "./issues.js";
import type { PodHatchesConfig, PodsConfig } from "./pods-schema.js";
import type { Rule } from "./rules.js";
import type { Config } from "./schema.js";

type ModelClass = new (data: unknown) => { validate(): void };

/** Each Kubernetes-typed hatch field: its model (types, required fields, enums) and its field table (unknown fields). */
const TYPED: Readonly<Record<string, { model: ModelClass; table: string; list: boolean }>> = {
  extraEnv: { model: EnvVar as unknown as ModelClass, table: "V1EnvVar", list: true },
  extraEnvFrom: { model: EnvFromSource as unknown as ModelClass, table: "V1EnvFromSource", list: true },
  extraVolumeMounts: { model: VolumeMount as unknown as ModelClass, table: "V1VolumeMount", list: true },
  extraVolumes: { model: Volume as unknown as ModelClass, table: "V1Volume", list: true },
  extraContainers: { model: Container as unknown as ModelClass, table: "V1Container", list: true },
  extraInitContainers: { model: Container as unknown as ModelClass, table: "V1Container", list: true },
  tolerations: { model: Toleration as unknown as ModelClass, table: "V1Toleration", list: true },
  affinity: { model: Affinity as unknown as ModelClass, table: "V1Affinity", list: false },
};

/** The workloads whose containers run Airflow and read airflow.cfg. */
const AIRFLOW_WORKLOADS = new Set(["apiServer", "scheduler", "dagProcessor", "triggerer", "worker", "jobs"]);

/** Volume sources Pod Security "restricted" admits (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
const RESTRICTED_VOLUME_SOURCES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

/** Every hatch block of the file: the top-level one and each environment's, with its path. */
export function hatchBlocks(config: Config): { at: (string | number)[]; pods: PodsConfig }[] {
  return [
    { at: ["pods"], pods: config.pods ?? {} },
    ...Object.entries(config.environments ?? {}).flatMap(([name, env]) => (env.pods ? [{ at: ["environments", name, "pods"], pods: env.pods }] : [])),
  ];
}

function eachHatch(config: Config): { at: (string | number)[]; workload: string; hatch: PodHatchesConfig }[] {
  return hatchBlocks(config).flatMap(({ at, pods }) =>
    Object.entries(pods).flatMap(([workload, hatch]) => (hatch ? [{ at: [...at, workload], workload, hatch: hatch as PodHatchesConfig }] : [])),
  );
}

function pointerSegments(pointer: string): (string | number)[] {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function modelProblems(model: ModelClass, value: unknown): { path: string; message: string }[] {
  try {
    new model(value).validate();
    return [];
  } catch (error) {
    const details = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
    return details?.length ? details.map((d) => ({ path: d.instancePath ?? "", message: d.message ?? "invalid" })) : [{ path: "", message: String(error) }];
  }
}

export const hatchesAreKubernetesValues: Rule = (config) =>
  eachHatch(config).flatMap(({ at, hatch }) =>
    Object.entries(TYPED).flatMap(([field, { model, table, list }]) => {
      const value = (hatch as Record<string, unknown>)[field];
      if (value === undefined) return [];
      const items: [(string | number)[], unknown][] = list && Array.isArray(value) ? value.map((v, i) => [[field, i], v]) : [[[field], value]];
      return items.flatMap(([where, item]): ConfigIssue[] => [
        ...unknownFieldsOf(item, table).map((p) => ({ path: joinPath([...at, ...where, ...pointerSegments(p.path)]), message: p.message })),
        ...modelProblems(model, item).map((p) => ({ path: joinPath([...at, ...where, ...pointerSegments(p.path)]), message: p.message })),
      ]);
    }),
  );

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
}

/** What Pod Security "restricted" refuses in a container, by field, with the reason. */
function restrictedViolations(container: { securityContext?: SecurityContext; ports?: { hostPort?: number }[] }): { field: (string | number)[]; message: string }[] {
  const sc = isObject(container.securityContext) ? container.securityContext : {};
  const found: { field: (string | number)[]; message: string }[] = [];
  const refuse = (field: (string | number)[], message: string) => found.push({ field, message: `${message}: the namespace enforces Pod Security "restricted"` });
  if (sc.privileged === true) refuse(["securityContext", "privileged"], "a privileged container is refused");
  if (sc.allowPrivilegeEscalation === true) refuse(["securityContext", "allowPrivilegeEscalation"], "privilege escalation is refused");
  if (sc.runAsNonRoot === false) refuse(["securityContext", "runAsNonRoot"], "a container running as root is refused");
  if (sc.runAsUser === 0) refuse(["securityContext", "runAsUser"], "user 0 (root) is refused");
  const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
  list(sc.capabilities?.add).forEach((cap, i) => {
    if (cap !== "NET_BIND_SERVICE") refuse(["securityContext", "capabilities", "add", i], `capability ${cap} is refused (only NET_BIND_SERVICE may be added)`);
  });
  if (Array.isArray(sc.capabilities?.drop) && !sc.capabilities.drop.includes("ALL")) refuse(["securityContext", "capabilities", "drop"], "every capability must be dropped (ALL)");
  if (sc.seccompProfile?.type === "Unconfined") refuse(["securityContext", "seccompProfile", "type"], "an Unconfined seccomp profile is refused");
  list(container.ports).forEach((port, i) => {
    if (isObject(port) && port.hostPort) refuse(["ports", i, "hostPort"], "a host port is refused");
  });
  return found;
}

export const hatchesStayRestricted: Rule = (config) =>
  eachHatch(config).flatMap(({ at, hatch }) => [
    ...(["extraContainers", "extraInitContainers"] as const).flatMap((field) =>
      (Array.isArray(hatch[field]) ? hatch[field]! : []).filter(isObject).flatMap((container, i) => restrictedViolations(container as never).map((v) => ({ path: joinPath([...at, field, i, ...v.field]), message: v.message }))),
    ),
    ...(Array.isArray(hatch.extraVolumes) ? hatch.extraVolumes : []).filter(isObject).flatMap((volume, i) =>
      Object.keys(volume)
        .filter((key) => key !== "name" && !RESTRICTED_VOLUME_SOURCES.has(key))
        .map((key) => ({ path: joinPath([...at, "extraVolumes", i, key]), message: `a ${key} volume is refused: the namespace enforces Pod Security "restricted"` })),
    ),
  ]);

/** Every container the generator writes has requests and a memory limit (so the scheduler can place it and a leak cannot take the node); so must the added ones. */
export const addedContainersAreSized: Rule = (config) =>
  eachHatch(config).flatMap(({ at, hatch }) =>
    (["extraContainers", "extraInitContainers"] as const).flatMap((field) =>
      (hatch[field] ?? []).flatMap((c, i): ConfigIssue[] => {
        const requests = c.resources?.requests ?? {};
        return [
          ...(requests.cpu === undefined || requests.memory === undefined
            ? [{ path: joinPath([...at, field, i, "resources", "requests"]), message: "needs cpu and memory requests, as every generated container has" }]
            : []),
          ...(c.resources?.limits?.memory === undefined
            ? [{ path: joinPath([...at, field, i, "resources", "limits", "memory"]), message: "needs a memory limit, as every generated container has" }]
            : []),
        ];
      }),
    ),
  );

export const hatchesLeaveAirflowConfigAlone: Rule = (config) =>
  eachHatch(config).flatMap(({ at, workload, hatch }) => [
    ...(AIRFLOW_WORKLOADS.has(workload)
      ? (hatch.extraEnv ?? []).flatMap((env, i): ConfigIssue[] => {
          const option = /^AIRFLOW__([A-Z0-9_]+?)__([A-Z0-9_]+)$/.exec(env.name ?? "");
          if (!option) return [];
          const what = `[${option[1]!.toLowerCase()}] ${option[2]!.toLowerCase()}`;
          return [
            {
              path: joinPath([...at, "extraEnv", i, "name"]),
              message:
                env.name === "AIRFLOW__CORE__EXECUTOR"
                  ? "overrides the executor, which is KubernetesExecutor by design"
                  : `sets airflow.cfg option ${what} behind the config's back: set it in airflow.config, where it is checked`,
            },
          ];
        })
      : []),
    ...(workload === "worker" && hatch.terminationGracePeriodSeconds !== undefined
      ? [{ path: joinPath([...at, "terminationGracePeriodSeconds"]), message: "task pods take theirs from components.worker.terminationGracePeriodSeconds" }]
      : []),
  ]);

export const overlayPatchesSayOneThing: Rule = (config) =>
  Object.entries(config.environments ?? {}).flatMap(([name, env]) =>
    (env.patches ?? []).flatMap((patch, i): ConfigIssue[] => {
      const at = ["environments", name, "patches", i];
      const kinds = [patch.strategicMerge, patch.jsonPatch].filter((p) => p !== undefined).length;
      if (kinds !== 1) return [{ path: joinPath(at), message: "needs exactly one of strategicMerge and jsonPatch" }];
      const fixed = ["apiVersion", "kind"].filter((key) => patch.strategicMerge && key in patch.strategicMerge);
      const meta = isObject(patch.strategicMerge?.metadata) ? (patch.strategicMerge.metadata as Record<string, unknown>) : undefined;
      return [
        ...fixed.map((key) => ({ path: joinPath([...at, "strategicMerge", key]), message: "comes from the target; leave it out" })),
        ...["name", "namespace"].filter((key) => meta && key in meta).map((key) => ({ path: joinPath([...at, "strategicMerge", "metadata", key]), message: "renames the object: the generated names are what Argo CD tracks" })),
        ...(patch.target.kind === "Namespace"
          ? [{ path: joinPath([...at, "target", "kind"]), message: "Kustomize patches before it names the Namespace for the environment, so no patch reaches it" }]
          : []),
        ...(patch.jsonPatch ?? []).flatMap((op, j): ConfigIssue[] => {
          const fixed = [op.path, op.from].find((p) => p !== undefined && FIXED_POINTERS.has(p));
          if (fixed) return [{ path: joinPath([...at, "jsonPatch", j]), message: `changes ${fixed}: the generated kinds and names are what Argo CD tracks` }];
          if (["add", "replace", "test"].includes(op.op) && !("value" in op)) return [{ path: joinPath([...at, "jsonPatch", j]), message: `a ${op.op} operation needs a value` }];
          if (["move", "copy"].includes(op.op) && op.from === undefined) return [{ path: joinPath([...at, "jsonPatch", j]), message: `a ${op.op} operation needs from` }];
          return [];
        }),
      ];
    }),
  );

const FIXED_POINTERS = new Set(["/apiVersion", "/kind", "/metadata/name", "/metadata/namespace", "/metadata"]);

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export const POD_RULES: readonly Rule[] = [hatchesAreKubernetesValues, hatchesStayRestricted, addedContainersAreSized, hatchesLeaveAirflowConfigAlone, overlayPatchesSayOneThing];
