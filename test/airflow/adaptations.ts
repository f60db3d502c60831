/**
 * The ONE place where what the overlays render is changed to run on this host instead of in a pod.
 * Everything else the suite runs is the rendered text itself. The adaptations, and only these:
 *
 * 1. Host paths. Container paths under `/opt/airflow`, `/opt/dag-builder` (the builder's ConfigMap) and
 *    `/git` (git-sync's checkout) live under a temporary directory (`hostPath`); the mounts of a pod
 *    (ConfigMap keys or items, subPath files, volume claims) are materialised there. The
 *    image's `/entrypoint` becomes a host script that does what the image's does for these commands
 *    with `CONNECTION_CHECK_MAX_COUNT=0`: run its arguments. The image's PATH is the venv's bin. The
 *    ServiceAccount token the API server injects into a live pod is not materialised (nothing run here
 *    reads it).
 * 2. Service addresses. A Service's DNS names (`<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`,
 *    `<svc>.<ns>.svc.cluster.local`) with its port become 127.0.0.1 and the host port of the process
 *    behind it, in airflow.cfg values; a server's listen address `[api] host`/`port` becomes that host
 *    port on 127.0.0.1 (servers here listen on loopback only).
 * 3. How the Kubernetes client finds the cluster: `[kubernetes_executor] in_cluster = False` and
 *    `config_file` = the local control plane's kubeconfig (only when a cluster is given).
 * 4. The task specs' connection. A deployment provides the connection the generated DAGs name
 *    (`dags.taskSpecs.connId`) to the task pod from outside the generated tree (an `AIRFLOW_CONN_<ID>`
 *    variable from a Secret of its own, or a secrets backend); here it is that variable, pointing at the
 *    suite's PostgreSQL (`taskConnectionEnv`), given to the task process only.
 * 5. The identity provider's address. An issuer is served over https at its public name; the suite's
 *    OpenID provider listens on http://127.0.0.1:<port>. In webserver_config.py the issuer URL the
 *    config names (`HostAddresses.identityProvider.issuer`) becomes that address; nothing else in it changes.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { KubeDocument } from "../../generator/validate/kustomize.js";
import type { Container, PodSpec, Rendered } from "./rendered.js";

export const CONTAINER_ROOT = "/opt/airflow";
const HOST_ROOTS = [CONTAINER_ROOT, "/opt/dag-builder", "/git"];
const ENTRYPOINT = "/entrypoint";
const SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface ServedPort {
  serviceName: string;
  port: number;
  targetPort: number | string;
  hostPort: number;
}

export interface HostAddresses {
  /** host port for each `<service>:<port>` of the overlay that a process of the suite serves */
  services: Map<string, ServedPort>;
  kubeconfig?: string;
  /** The issuer the config names and the address of the suite's provider that stands in for it. */
  identityProvider?: { issuer: string; served: string };
}

export class HostLayout {
  constructor(
    readonly root: string,
    readonly venvBin: string,
  ) {
    mkdirSync(this.hostPath(CONTAINER_ROOT), { recursive: true });
    const entrypoint = join(root, "entrypoint");
    writeFileSync(entrypoint, '#!/bin/sh\n# the image entrypoint with CONNECTION_CHECK_MAX_COUNT=0: run the arguments\nexec "$@"\n');
    chmodSync(entrypoint, 0o755);
  }

  /** Where a container path lives on the host. */
  hostPath(containerPath: string): string {
    if (containerPath === ENTRYPOINT) return join(this.root, "entrypoint");
    if (HOST_ROOTS.some((r) => containerPath === r || containerPath.startsWith(`${r}/`))) return join(this.root, containerPath);
    return containerPath;
  }

  /** Container paths inside a text (a command line, a config value) replaced by host paths. */
  hostText(text: string): string {
    let out = text.replace(/(^|[\s='"])\/entrypoint(?=$|[\s'"])/g, (_m, lead: string) => `${lead}${this.hostPath(ENTRYPOINT)}`);
    for (const root of HOST_ROOTS) {
      const pattern = new RegExp(`(^|[\\s='":])${root.replace(/\//g, "\\/")}(?=$|[\\s/'"])`, "g");
      out = out.replace(pattern, (_m, lead: string) => `${lead}${this.hostPath(root)}`);
    }
    return out;
  }

  /** command + args as the container runtime would run them, host paths substituted. */
  argv(container: Container): string[] {
    const argv = [...(container.command ?? []), ...(container.args ?? [])];
    if (argv.length === 0) throw new Error(`container ${container.name} has neither command nor args`);
    // No command: the image's ENTRYPOINT (dumb-init, /entrypoint) runs the args.
    return (container.command ? argv : argv).map((a) => this.hostText(a));
  }

  /** The container environment plus what the image provides (PATH with its Python, HOME). */
  env(containerEnv: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(containerEnv)) env[k] = this.hostText(v);
    return {
      PATH: `${this.venvBin}:/usr/local/bin:/usr/bin:/bin`,
      HOME: join(this.root, "home"),
      LANG: "C.UTF-8",
      TZ: "UTC",
      ...env,
    };
  }

  /**
   * Materialises the mounts of a pod: ConfigMap volumes from the overlay's ConfigMaps (a subPath as one
   * file), claims as shared directories. All pods of the suite share one host tree, so one container
   * path must always be the same volume.
   */
  mount(spec: PodSpec, container: Container, rendered: Rendered, addresses: HostAddresses): void {
    mkdirSync(join(this.root, "home"), { recursive: true });
    for (const mount of container.volumeMounts ?? []) {
      const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
      if (!volume) throw new Error(`container ${container.name} mounts ${mount.name}, which the pod has no volume for`);
      // the API server's admission injects the ServiceAccount token; no command run here reads it
      if (mount.mountPath === SERVICE_ACCOUNT_MOUNT && volume.projected) continue;
      const target = this.hostPath(mount.mountPath);
      if (target === mount.mountPath) throw new Error(`container ${container.name} mounts ${mount.mountPath}, outside ${CONTAINER_ROOT}: no host path is defined for it`);
      const configMap = volume.configMap as { name: string; items?: { key: string; path: string }[] } | undefined;
      if (configMap) {
        const data = configMapData(rendered.documents, configMap.name);
        const keys = configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
        const files = mount.subPath ? { [target]: data[mount.subPath] } : Object.fromEntries(keys.map((i) => [join(target, i.path), data[i.key]]));
        for (const [file, content] of Object.entries(files)) {
          if (content === undefined) throw new Error(`ConfigMap ${configMap.name} lacks a key that ${container.name} mounts at ${file}`);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, file.endsWith("airflow.cfg") ? this.hostAirflowCfg(content, addresses) : file.endsWith("webserver_config.py") ? hostWebserverConfig(content, addresses) : content);
        }
      } else mkdirSync(target, { recursive: true });
    }
  }

  /** airflow.cfg with the adaptations above applied; everything else byte for byte as rendered. */
  hostAirflowCfg(text: string, addresses: HostAddresses): string {
    let out = this.hostText(text);
    for (const [, service] of addresses.services) out = replaceServiceAddress(out, service);
    const api = [...addresses.services.values()].find((s) => s.serviceName.split(".")[0]!.endsWith("api-server"));
    if (api) {
      out = setOption(out, "api", "host", "127.0.0.1");
      out = setOption(out, "api", "port", String(api.hostPort));
    }
    if (addresses.kubeconfig) {
      out = setOption(out, "kubernetes_executor", "in_cluster", "False");
      out = setOption(out, "kubernetes_executor", "config_file", addresses.kubeconfig);
    }
    return out;
  }
}

/** webserver_config.py with adaptation 5 applied. */
function hostWebserverConfig(text: string, addresses: HostAddresses): string {
  const idp = addresses.identityProvider;
  if (!idp) return text;
  const issuer = JSON.stringify(idp.issuer.replace(/\/+$/, "")).slice(0, -1);
  if (!text.includes(issuer)) throw new Error(`webserver_config.py does not name the issuer ${idp.issuer}`);
  return text.replaceAll(issuer, JSON.stringify(idp.served).slice(0, -1));
}

/** The Services of the overlay, each port given a host port by `hostPortFor` (undefined: not served here). */
export function serviceAddresses(rendered: Rendered, hostPortFor: (service: string, port: number) => number | undefined): HostAddresses["services"] {
  const services = new Map<string, ServedPort>();
  for (const svc of rendered.documents.filter((d) => d.kind === "Service")) {
    for (const p of (svc.spec as { ports: { port: number; targetPort?: number | string }[] }).ports) {
      const hostPort = hostPortFor(svc.metadata.name, p.port);
      const serviceName = `${svc.metadata.name}.${svc.metadata.namespace ?? rendered.namespace}`;
      if (hostPort !== undefined) services.set(`${svc.metadata.name}:${p.port}`, { serviceName, port: p.port, targetPort: p.targetPort ?? p.port, hostPort });
    }
  }
  return services;
}

/** `AIRFLOW_CONN_<ID>` (Airflow's JSON form, no URL escaping) for a PostgreSQL database: adaptation 4. */
export function taskConnectionEnv(connId: string, db: { host: string; port: number; database: string; username: string; password: string }): Record<string, string> {
  const connection = { conn_type: "postgres", host: db.host, port: db.port, schema: db.database, login: db.username, password: db.password };
  return { [`AIRFLOW_CONN_${connId.toUpperCase()}`]: JSON.stringify(connection) };
}

function replaceServiceAddress(text: string, service: ServedPort): string {
  const [name, namespace] = service.serviceName.split(".");
  const hosts = [`${name}.${namespace}.svc.cluster.local`, `${name}.${namespace}.svc`, `${name}.${namespace}`, name!].map((h) => h.replace(/\./g, "\\."));
  const withPort = new RegExp(`(?<=^|[/=\\s@])(?:${hosts.join("|")}):${service.port}(?=$|[/\\s])`, "gm");
  let out = text.replace(withPort, `127.0.0.1:${service.hostPort}`);
  // statsd_host-style values name the host alone; the port is the `<prefix>_port` option beside it
  const bare = new RegExp(`^((\\w+)_host\\s*=\\s*)(?:${hosts.join("|")})\\s*$`, "gm");
  const prefixes: string[] = [];
  out = out.replace(bare, (_m, lead: string, prefix: string) => {
    prefixes.push(prefix);
    return `${lead}127.0.0.1`;
  });
  for (const prefix of prefixes) out = out.replace(new RegExp(`^(${prefix}_port\\s*=\\s*)${service.port}\\s*$`, "gm"), `$1${service.hostPort}`);
  return out;
}

export function configMapData(documents: KubeDocument[], name: string): Record<string, string> {
  const cm = documents.find((d) => d.kind === "ConfigMap" && d.metadata.name === name);
  if (!cm) throw new Error(`the overlay has no ConfigMap ${name}`);
  return (cm.data ?? {}) as Record<string, string>;
}

/** Sets `option = value` in `[section]` of an ini text, adding the option (or section) if absent. */
export function setOption(text: string, section: string, option: string, value: string): string {
  const lines = text.split("\n");
  let current = "";
  let sectionEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    const header = /^\[([^\]]+)\]\s*$/.exec(lines[i]!);
    if (header) {
      if (current === section) break;
      current = header[1]!;
      continue;
    }
    if (current !== section) continue;
    if (new RegExp(`^${option}\\s*=`).test(lines[i]!)) {
      lines[i] = `${option} = ${value}`;
      return lines.join("\n");
    }
    if (lines[i]!.trim() !== "") sectionEnd = i;
  }
  if (sectionEnd >= 0) lines.splice(sectionEnd + 1, 0, `${option} = ${value}`);
  else lines.push("", `[${section}]`, `${option} = ${value}`);
  return lines.join("\n");
}
