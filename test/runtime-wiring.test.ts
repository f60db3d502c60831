/**
 * What a real cluster needs beyond a schema-valid build: the load balancer's path through the
 * NetworkPolicy, proxy headers and the public URL, readiness gates, git ownership on EFS, JWT claims.
 */
import { describe, expect, it } from "vitest";
import { loadForCore as loadConfig } from "./helpers.js";
import type { Config } from "../generator/config/schema.js";
import { buildManifests } from "../generator/core/base.js";
import { resolveEnvironment } from "../generator/core/target.js";
import { generate } from "../generator/core/index.js";
import { renderAll } from "../generator/render/render.js";
import { exampleProblems, exampleText, exampleWith } from "./helpers.js";

const config = loadConfig(exampleText(), "airflow-gitops.yaml");


const S3_LOG_ROLE_ARNS = {
  worker: "arn:aws:iam::123456789012:role/w",
  triggerer: "arn:aws:iam::123456789012:role/t",
  apiServer: "arn:aws:iam::123456789012:role/a",
};
const objectsOf = (c: Config, env: string) => buildManifests(resolveEnvironment(c, env)).map((m) => m.object as any);
const find = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const cfgOf = (objects: any[]) => find(objects, "ConfigMap", "airflow-config").data["airflow.cfg"] as string;
const option = (cfg: string, section: string, key: string) =>
  new RegExp(`^\\[${section}\\]\\n(?:[^\\[].*\\n)*?${key} = (.*)$`, "m").exec(cfg)?.[1];

describe("the load balancer reaches the api-server", () => {
  const prod = objectsOf(config, "prod");

  it("admits the VPC ranges, not the client ranges, in the api-server NetworkPolicy", () => {
    const policy = find(prod, "NetworkPolicy", "airflow-api-server");
    const froms = policy.spec.ingress.map((rule: any) => rule.from);
    for (const from of froms) expect(from.length).toBeGreaterThan(0);
    expect(froms[0]).toEqual([{ ipBlock: { cidr: "10.0.0.0/24" } }, { ipBlock: { cidr: "10.0.1.0/24" } }]);
    expect(find(prod, "Ingress", "airflow-api-server").metadata.annotations["alb.ingress.kubernetes.io/inbound-cidrs"]).toBe("10.0.0.0/8");
  });

  it("requires ingress.vpcCidrs for every environment, and accepts it per environment", () => {
    expect(exampleProblems((d) => delete d.ingress.vpcCidrs)).toEqual([
      expect.stringMatching(/environments\.dev\.ingress\.vpcCidrs: is required/),
      expect.stringMatching(/environments\.prod\.ingress\.vpcCidrs: is required/),
    ]);
    const perEnvironment = exampleWith((d) => {
      delete d.ingress.vpcCidrs;
      d.environments.dev.ingress.vpcCidrs = ["10.1.0.0/16"];
      d.environments.prod.ingress.vpcCidrs = ["10.2.0.0/16", "10.3.0.0/16"];
    });
    const froms = find(objectsOf(perEnvironment, "prod"), "NetworkPolicy", "airflow-api-server").spec.ingress[0].from;
    expect(froms).toEqual([{ ipBlock: { cidr: "10.2.0.0/16" } }, { ipBlock: { cidr: "10.3.0.0/16" } }]);
  });

  it("labels the namespace for the load balancer controller's pod readiness gates", () => {
    expect(find(prod, "Namespace", "airflow").metadata.labels["elbv2.k8s.aws/pod-readiness-gate-inject"]).toBe("enabled");
  });
});

describe("links and proxy headers", () => {
  it("sets [api] base_url to the ingress URL: https with a certificate, given or discovered for the host", () => {
    expect(option(cfgOf(objectsOf(config, "prod")), "api", "base_url")).toBe("https://airflow.acme.com/");
    expect(option(cfgOf(objectsOf(config, "dev")), "api", "base_url")).toBe("https://airflow.dev.acme.internal/");
    const ingressOf = (env: string) => objectsOf(config, env).find((o: any) => o.kind === "Ingress").metadata.annotations;
    expect(ingressOf("dev")).toMatchObject({ "alb.ingress.kubernetes.io/ssl-redirect": "443", "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    expect(ingressOf("dev")["alb.ingress.kubernetes.io/certificate-arn"]).toBeUndefined();
    expect(ingressOf("prod")["alb.ingress.kubernetes.io/certificate-arn"]).toMatch(/^arn:aws:acm:/);
    const noHost = exampleWith((d) => delete d.environments.dev.ingress.host);
    expect(option(cfgOf(objectsOf(noHost, "dev")), "api", "base_url")).toBeUndefined();
  });

  it("keeps the Execution API URL on the in-cluster Service, consistent with the base path", () => {
    expect(option(cfgOf(objectsOf(config, "prod")), "core", "execution_api_server_url")).toBe(
      "http://airflow-api-server.airflow.svc.cluster.local:8080/execution/",
    );
  });

  it("refuses a base_url in the config: it comes from the ingress", () => {
    expect(exampleProblems((d) => (d.airflow.config.api = { base_url: "https://other.example.com/" }))).toEqual([
      expect.stringMatching(/airflow\.config\.api\.base_url: is set by the generator/),
    ]);
  });

  it("runs the api-server with proxy headers trusted from the VPC only", () => {
    const container = find(objectsOf(config, "prod"), "Deployment", "airflow-api-server").spec.template.spec.containers[0];
    expect(container.args.at(-1)).toBe("exec airflow api-server --proxy-headers");
    expect(container.env).toContainEqual({ name: "FORWARDED_ALLOW_IPS", value: "10.0.0.0/24,10.0.1.0/24" });
  });
});

describe("git-sync on an EFS access point", () => {
  it.each([
    ["with the builder", config],
    ["without the builder", exampleWith((d) => delete d.dags.builder)],
  ])("marks the checkout safe and keeps its root filesystem read-only (%s)", (_layout, variant) => {
    const spec = find(objectsOf(variant, "prod"), "Deployment", "airflow-dag-sync").spec.template.spec;
    const gitSync = spec.containers.find((c: any) => c.name === "git-sync");
    expect(gitSync.env).toContainEqual({ name: "GITSYNC_GIT_CONFIG", value: "safe.directory:*" });
    expect(gitSync.securityContext.readOnlyRootFilesystem).toBe(true);
    const home = gitSync.env.find((e: any) => e.name === "HOME").value;
    const mount = gitSync.volumeMounts.find((m: any) => m.mountPath === home);
    expect(spec.volumes.find((v: any) => v.name === mount.name).emptyDir).toBeDefined();
  });
});

describe("hygiene", () => {
  it("sets the JWT issuer per environment", () => {
    const prod = cfgOf(objectsOf(config, "prod"));
    const dev = cfgOf(objectsOf(config, "dev"));
    expect(option(prod, "api_auth", "jwt_issuer")).toBe("urn:airflow-gitops:airflow:prod");
    expect(option(dev, "api_auth", "jwt_issuer")).toBe("urn:airflow-gitops:airflow:dev");
  });

  it("leaves the token audience at the default that Airflow's signer and validator share", () => {
    // Airflow 3.2 signs with [api] jwt_audience and validates with [api_auth] jwt_audience, both defaulting to apache-airflow.
    const prod = cfgOf(objectsOf(config, "prod"));
    expect(option(prod, "api_auth", "jwt_audience")).toBeUndefined();
    expect(option(prod, "api", "jwt_audience")).toBeUndefined();
    expect(exampleProblems((d) => (d.airflow.config = { api_auth: { jwt_audience: "my-airflow" } }))).toEqual([
      expect.stringMatching(/airflow\.config\.api_auth\.jwt_audience: is set by the generator \(Airflow 3\.2 signs API tokens/),
    ]);
  });

  it("spreads parsing over several dag-processors", () => {
    expect(option(cfgOf(objectsOf(config, "prod")), "dag_processor", "file_parsing_sort_mode")).toBe("random_seeded_by_host");
    expect(option(cfgOf(objectsOf(config, "dev")), "dag_processor", "file_parsing_sort_mode")).toBeUndefined();
  });

  it("keeps [kubernetes_executor] namespace: the executor's watcher and pod namespace still come from it", () => {
    expect(option(cfgOf(objectsOf(config, "dev")), "kubernetes_executor", "namespace")).toBe("airflow-dev");
  });

  it("runs statsd, git-sync and the placeholders with a read-only root filesystem", () => {
    const prod = objectsOf(config, "prod");
    const containers = ["airflow-statsd", "airflow-dag-sync", "airflow-peak-placeholder"].flatMap(
      (name) => find(prod, "Deployment", name).spec.template.spec.containers,
    );
    const readOnly = containers.filter((c: any) => c.name !== "dag-builder").map((c: any) => [c.name, c.securityContext.readOnlyRootFilesystem]);
    expect(readOnly).toEqual([
      ["statsd-exporter", true],
      ["git-sync", true],
      ["pause", true],
    ]);
  });
});

describe("task pods", () => {
  const prod = objectsOf(config, "prod");
  const template = () => {
    const text = find(prod, "ConfigMap", "airflow-config").data["pod_template_file.yaml"] as string;
    return text;
  };

  it("serve no log port, and only the triggerer's log port is open to the api-server", () => {
    expect(template()).not.toMatch(/containerPort|8793/);
    const policy = find(prod, "NetworkPolicy", "airflow-triggerer-logs");
    expect(policy.spec.podSelector.matchLabels["app.kubernetes.io/component"]).toBe("triggerer");
    expect(policy.spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: expect.objectContaining({ "app.kubernetes.io/component": "api-server" }) } }], ports: [{ protocol: "TCP", port: 8794 }] },
    ]);
    expect(cfgOf(prod)).not.toContain("worker_log_server_port");
  });

  it("records the triggerer under its pod IP, which the api-server can reach", () => {
    const triggerer = find(prod, "Deployment", "airflow-triggerer").spec.template.spec.containers[0];
    expect(triggerer.env).toContainEqual({ name: "AIRFLOW__CORE__HOSTNAME_CALLABLE", value: "airflow.utils.net.get_host_ip_address" });
    expect(triggerer.ports).toEqual([{ name: "triggerer-logs", containerPort: 8794, protocol: "TCP" }]);
  });

  it("keeps failed pods for debugging and removes them on a schedule with Airflow's own cleanup", () => {
    expect(option(cfgOf(prod), "kubernetes_executor", "delete_worker_pods_on_failure")).toBe("False");
    expect(option(cfgOf(prod), "kubernetes_executor", "delete_worker_pods")).toBe("True");
    const cron = find(prod, "CronJob", "airflow-failed-pod-cleanup");
    expect(cron.spec).toMatchObject({ schedule: "30 */6 * * *", concurrencyPolicy: "Forbid", timeZone: "Etc/UTC" });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].args).toEqual(["airflow", "kubernetes", "cleanup-pods", "--namespace=airflow"]);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(["wait-for-migrations"]);
    // An account of its own that may only list and delete pods: not the scheduler's, which may launch them.
    expect(pod.serviceAccountName).toBe("airflow-failed-pod-cleanup");
    expect(find(prod, "ServiceAccount", "airflow-failed-pod-cleanup")).toMatchObject({ automountServiceAccountToken: true });
    expect(find(prod, "ServiceAccount", "airflow-failed-pod-cleanup").metadata.annotations?.["eks.amazonaws.com/role-arn"]).toBeUndefined();
    expect(find(prod, "Role", "airflow-pod-cleaner").rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["list", "delete"] }]);
    expect(find(prod, "RoleBinding", "airflow-pod-cleaner").subjects.map((s: any) => s.name)).toEqual(["airflow-failed-pod-cleanup"]);
    expect(find(prod, "RoleBinding", "airflow-pod-launcher").subjects.map((s: any) => s.name)).toEqual(["airflow-scheduler"]);
  });

  it("bounds every Job: a deadline, retries, and finished hook Jobs removed after a day", () => {
    const spec = (kind: string, name: string) => (kind === "CronJob" ? find(prod, kind, name).spec.jobTemplate.spec : find(prod, kind, name).spec);
    expect(spec("Job", "airflow-migrations")).toMatchObject({ activeDeadlineSeconds: 3600, backoffLimit: 6, ttlSecondsAfterFinished: 86400 });
    // Without Argo CD it starts beside the migrations and waits for them first.
    expect(spec("Job", "airflow-create-admin-user")).toMatchObject({ activeDeadlineSeconds: 3600 + 900, backoffLimit: 6, ttlSecondsAfterFinished: 86400 });
    // The CronJobs' history limits remove old runs; a failed one is kept for its log.
    expect(spec("CronJob", "airflow-failed-pod-cleanup")).toMatchObject({ activeDeadlineSeconds: 1800, backoffLimit: 2 });
    expect(spec("CronJob", "airflow-failed-pod-cleanup").ttlSecondsAfterFinished).toBeUndefined();
    expect(spec("CronJob", "airflow-db-clean")).toMatchObject({ activeDeadlineSeconds: 21600, backoffLimit: 2 });
    const longer = objectsOf(exampleWith((d) => (d.components.migrations = { activeDeadlineSeconds: 7200 })), "prod");
    expect(find(longer, "Job", "airflow-migrations").spec.activeDeadlineSeconds).toBe(7200);
    expect(find(longer, "Job", "airflow-create-admin-user").spec.activeDeadlineSeconds).toBe(8100);
    expect(exampleProblems((d) => (d.components.migrations = { activeDeadlineSeconds: 10 }))).toEqual([
      expect.stringMatching(/components\.migrations\.activeDeadlineSeconds: must be >= 60/),
    ]);
  });

  it("get no Kubernetes token unless they launch pods, then a least-privilege Role", () => {
    const worker = (objects: any[]) => find(objects, "ServiceAccount", "airflow-worker");
    expect(worker(prod).automountServiceAccountToken).toBe(false);
    expect(find(prod, "Role", "airflow-task-pod-launcher")).toBeUndefined();

    const kpo = objectsOf(exampleWith((d) => (d.environments.prod.components = { ...d.environments.prod.components, worker: { podLauncher: { enabled: true } } })), "prod");
    expect(worker(kpo).automountServiceAccountToken).toBe(true);
    const role = find(kpo, "Role", "airflow-task-pod-launcher");
    expect(role.rules.flatMap((r: any) => r.resources)).toEqual(["pods", "pods/log", "events"]);
    expect(find(kpo, "RoleBinding", "airflow-task-pod-launcher").subjects).toEqual([{ kind: "ServiceAccount", name: "airflow-worker", namespace: "airflow" }]);

    const exec = objectsOf(exampleWith((d) => (d.components.worker.podLauncher = { enabled: true, exec: true })), "prod");
    expect(find(exec, "Role", "airflow-task-pod-launcher").rules.at(-1)).toEqual({ apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] });
  });
});

describe("metadata database cleanup", () => {
  it("runs `airflow db clean` with the retention, the database URL only, and a wait for the migrations", () => {
    const cron = find(objectsOf(config, "prod"), "CronJob", "airflow-db-clean");
    expect(cron.spec.schedule).toBe("15 3 * * *");
    const pod = cron.spec.jobTemplate.spec.template.spec;
    // `$$` is how the kubelet is told to pass one `$` to bash: the shell, not the kubelet, runs `date`.
    expect(pod.containers[0].args.at(-1)).toMatch(/^exec airflow db clean --clean-before-timestamp "\$\$\(date -u -d '-90 days' .*\)" --yes --skip-archive$/);
    expect(pod.containers[0].env.filter((e: any) => e.valueFrom).map((e: any) => e.name)).toEqual(["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(["wait-for-migrations"]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.serviceAccountName).toBe("airflow-migrations");
  });

  it("is written only where it is enabled", () => {
    expect(find(objectsOf(config, "dev"), "CronJob", "airflow-db-clean")).toBeUndefined();
  });
});

describe("secret rotation reaches running pods", () => {
  const reloadOf = (objects: any[], name: string) => find(objects, "Deployment", name).metadata.annotations?.["secret.reloader.stakater.com/reload"];

  it("names on each Deployment exactly the Secrets its pods read, for Stakater Reloader", () => {
    const prod = objectsOf(config, "prod");
    expect(reloadOf(prod, "airflow-api-server")).toBe("airflow-api-secret-key,airflow-fernet-key,airflow-jwt-secret,airflow-metadata-db");
    expect(reloadOf(prod, "airflow-scheduler")).toBe("airflow-fernet-key,airflow-jwt-secret,airflow-metadata-db");
    expect(reloadOf(prod, "airflow-dag-processor")).toBe("airflow-fernet-key,airflow-metadata-db");
    expect(reloadOf(prod, "airflow-dag-sync")).toBe("airflow-git-credentials");
    expect(reloadOf(prod, "airflow-statsd")).toBeUndefined();
    for (const d of prod.filter((o) => o.kind === "Deployment" && reloadOf(prod, o.metadata.name))) {
      const read = new Set(
        [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].flatMap((c: any) =>
          (c.env ?? []).flatMap((e: any) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])),
        ),
      );
      for (const v of d.spec.template.spec.volumes ?? []) if (v.secret) read.add(v.secret.secretName);
      expect(reloadOf(prod, d.metadata.name).split(","), d.metadata.name).toEqual([...read].sort());
    }
  });

  it("leaves the annotation out when the option is off, and says in the rotation procedure to restart", () => {
    const off = exampleWith((d) => (d.secrets.reloadOnChange = false));
    expect(reloadOf(objectsOf(off, "prod"), "airflow-scheduler")).toBeUndefined();
    expect(renderAll(generate(off)).get("secrets/prod/README.md")).toContain("rollout restart deployment");
    const readme = renderAll(generate(config)).get("secrets/prod/README.md")!;
    expect(readme).toContain("within 1h (the refresh interval) plus one rollout");
    expect(readme).not.toContain("rollout restart deployment");
  });
});

describe("task logs in S3", () => {
  it("sends logs to the environment's S3 folder with no stored connection, and writes the IAM policy beside the secrets policy", () => {
    const prod = objectsOf(config, "prod");
    const cfg = cfgOf(prod);
    expect(option(cfg, "logging", "remote_logging")).toBe("True");
    expect(option(cfg, "logging", "remote_base_log_folder")).toBe("s3://acme-airflow-logs/prod");
    expect(cfg).not.toContain("remote_log_conn_id");
    expect(option(cfgOf(objectsOf(config, "dev")), "logging", "remote_logging")).toBe("False");
    const env = find(prod, "Deployment", "airflow-triggerer").spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "AWS_DEFAULT_REGION", value: "sa-east-1" });
    const readme = renderAll(generate(config)).get("secrets/prod/README.md")!;
    expect(readme).toContain("## IAM policy for task logs in S3");
    expect(readme).toContain('"Resource": "arn:aws:s3:::acme-airflow-logs/prod/*"');
    expect(readme).toContain("arn:aws:iam::123456789012:role/airflow-prod-tasks");
    expect(renderAll(generate(config)).get("secrets/dev/README.md")).not.toContain("task logs in S3");
  });

  it("refuses user settings for remote logging: they follow storage.logs", () => {
    expect(exampleProblems((d) => (d.airflow.config.logging = { remote_logging: true }))).toEqual([
      expect.stringMatching(/airflow\.config\.logging\.remote_logging: is set by the generator/),
    ]);
  });

  it("may drop the EFS log volume for every environment when logs go to S3, and never without S3", () => {
    const noVolume = exampleWith((d) => {
      d.storage.logs.volume = false;
      d.storage.logs.s3BaseFolder = "s3://acme-airflow-logs/{env}";
      d.environments.dev.iam.roles = { ...d.environments.dev.iam.roles, ...S3_LOG_ROLE_ARNS };
    });
    const prod = objectsOf(noVolume, "prod");
    expect(find(prod, "PersistentVolumeClaim", "airflow-logs")).toBeUndefined();
    expect(find(prod, "Deployment", "airflow-scheduler").spec.template.spec.volumes.find((v: any) => v.name === "logs").emptyDir).toBeDefined();
    expect(option(cfgOf(prod), "logging", "delete_local_logs")).toBe("True");
    const files = renderAll(generate(noVolume));
    expect(files.has("base/logs-persistentvolumeclaim.yaml")).toBe(false);
    expect(files.has("overlays/prod/kustomization.yaml")).toBe(true);
    expect(exampleProblems((d) => (d.storage.logs.volume = false))).toEqual([
      expect.stringMatching(/ storage\.logs\.volume: is false without storage\.logs\.s3BaseFolder \(environment dev\)/),
    ]);
  });

  it("refuses a log volume setting of one environment that differs from the base", () => {
    expect(exampleProblems((d) => (d.environments.prod.storage.logs.volume = false))).toEqual([
      expect.stringMatching(/environments\.prod\.storage\.logs\.volume: cannot differ from storage\.logs\.volume \(true\)/),
    ]);
    expect(exampleProblems((d) => (d.environments.prod.storage.logs.volume = true))).toEqual([]);
  });

  it("requires the IAM roles of the pods that write and read S3 logs under IRSA", () => {
    expect(exampleProblems((d) => delete d.environments.prod.iam.roles.apiServer)).toEqual([
      expect.stringMatching(/environments\.prod\.iam\.roles: needs iam\.roles\.apiServer: task logs go to s3:\/\/acme-airflow-logs\/\{env\}/),
    ]);
    expect(exampleProblems((d) => (d.environments.dev.storage.logs.s3BaseFolder = "s3://acme-logs/dev"))).toEqual([
      expect.stringMatching(/environments\.dev\.iam\.roles: needs iam\.roles\.triggerer, iam\.roles\.apiServer: /),
    ]);
    expect(exampleProblems((d) => (d.environments.prod.iam = { mode: "podIdentity" }))).toEqual([]);
  });
});
