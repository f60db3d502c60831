/**
 * Policy every build must meet: Pod Security Standards "restricted", requests and a memory limit on
 * every container, probes on long-running containers that serve a port, pinned images, and no Secret
 * carrying data.
 */
import { quantityValue } from "../config/quantity.js";
import type { KubeDocument } from "./kustomize.js";
import { containersOf, podSites } from "./pods.js";
import type { Finding } from "./references.js";

/** The only capability "restricted" lets a container add. */
const ALLOWED_ADDED_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);

export function checkPolicy(objects: readonly KubeDocument[]): Finding[] {
  const findings: Finding[] = [];
  const add = (object: KubeDocument, path: string, message: string) => findings.push({ object, path, message });

  for (const o of objects) {
    if (o.kind === "Secret" && (o.data !== undefined || o.stringData !== undefined)) {
      add(o, "/data", "a Secret with data is in the repository; create it with an ExternalSecret instead");
    }
  }

  for (const { owner, at, spec, longRunning } of podSites(objects)) {
    const pod = spec.securityContext ?? {};
    for (const host of ["hostNetwork", "hostPID", "hostIPC"] as const) if (spec[host]) add(owner, `${at}/${host}`, `${host} is not allowed (restricted)`);
    for (const [i, v] of (spec.volumes ?? []).entries()) if (v.hostPath) add(owner, `${at}/volumes/${i}`, "hostPath volumes are not allowed (restricted)");
    const seccompOk = (sc: Record<string, any> | undefined) => ["RuntimeDefault", "Localhost"].includes(sc?.seccompProfile?.type);

    for (const c of containersOf(spec)) {
      const where = `${at}/containers/${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.privileged === true) add(owner, `${where}/securityContext/privileged`, "privileged containers are not allowed (restricted)");
      if (sc.allowPrivilegeEscalation !== false) add(owner, `${where}/securityContext/allowPrivilegeEscalation`, "must be false (restricted)");
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) add(owner, `${where}/securityContext/capabilities/drop`, "must drop ALL capabilities (restricted)");
      for (const cap of sc.capabilities?.add ?? []) {
        if (!ALLOWED_ADDED_CAPABILITIES.has(cap)) add(owner, `${where}/securityContext/capabilities/add`, `adds ${cap} (restricted allows only NET_BIND_SERVICE)`);
      }
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) add(owner, `${where}/securityContext/runAsNonRoot`, "must run as non-root (restricted)");
      if ((sc.runAsUser ?? pod.runAsUser) === 0) add(owner, `${where}/securityContext/runAsUser`, "must not run as user 0 (restricted)");
      if (!seccompOk(sc) && !seccompOk(pod)) add(owner, `${where}/securityContext/seccompProfile`, "needs the RuntimeDefault seccomp profile (restricted)");

      const requests = c.resources?.requests ?? {};
      if (requests.cpu === undefined || requests.memory === undefined) add(owner, `${where}/resources/requests`, "needs cpu and memory requests");
      if (c.resources?.limits?.memory === undefined) add(owner, `${where}/resources/limits/memory`, "needs a memory limit");
      const limits = c.resources?.limits ?? {};
      for (const resource of ["cpu", "memory"]) {
        const [request, limit] = [requests[resource], limits[resource]].map((q) => (q === undefined ? undefined : quantityValue(String(q))));
        if (request !== undefined && limit !== undefined && request > limit) {
          add(owner, `${where}/resources/requests/${resource}`, `request ${String(requests[resource])} is above the limit ${String(limits[resource])}: the API server refuses the pod`);
        }
      }

      const image = c.image ?? "";
      const tag = /^(?:.*\/)?[^/:@]+(?::([^/@]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(image);
      if (!tag || (!tag[1] && !tag[2])) add(owner, `${where}/image`, `image "${image}" has no tag or digest`);
      else if (tag[1] === "latest") add(owner, `${where}/image`, `image "${image}" uses the latest tag`);
    }
    if (longRunning) {
      for (const c of spec.containers) {
        if ((c.ports ?? []).length > 0 && !c.livenessProbe && !c.readinessProbe) {
          add(owner, `${at}/containers/${c.name}`, "serves a port but has no liveness or readiness probe");
        }
      }
    }
  }
  return findings;
}
