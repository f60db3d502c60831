/**
 * The shape of airflow-gitops.yaml: the single source of truth for validation (ajv), defaults
 * (ajv `useDefaults`), the published `airflow-gitops.schema.json` and the TypeScript `Config` type.
 *
 * Every property carries a description and either a default or, when the user must decide, an
 * example and a place in its parent's `required` list.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { closed, GitUrl, P, Quantity, Replicas, Resources, StringEnum } from "./schema-kit.js";
import { Autoscaling, Iam, overridesOf, PeakHours } from "./environment-schema.js";

export { PATTERN_HINTS } from "./schema-kit.js";

const AirflowConfigValue = Type.Unsafe<string | number | boolean>({
  type: ["string", "number", "boolean"],
  description: "A value for airflow.cfg; booleans are written as True/False.",
});

const AirflowConfig = Type.Record(
  Type.String({ pattern: P.airflowSection }),
  Type.Record(Type.String({ pattern: P.airflowOption }), AirflowConfigValue, { ...closed, description: "Options of one airflow.cfg section." }),
  {
    ...closed,
    description:
      "Extra airflow.cfg entries as section -> option -> value. Checked against the options Airflow 3 knows; " +
      "secrets (fernet key, database URL, API and JWT secrets) are refused here because they come from Parameter Store.",
    default: {},
    examples: [{ core: { parallelism: 64 }, kubernetes_executor: { worker_pods_creation_batch_size: 16 } }],
  },
);

const Airflow = Type.Object(
  {
    image: Type.Object(
      {
        repository: Type.String({
          minLength: 1,
          description: "Airflow image repository, used by every Airflow container and by task pods.",
          default: "apache/airflow",
        }),
        tag: Type.String({
          pattern: P.imageTag,
          description: "Airflow image tag (never `latest`). Must be an Airflow 3 image.",
          default: "3.2.2",
        }),
      },
      { ...closed, description: "The Airflow image.", default: {} },
    ),
    config: AirflowConfig,
    adminUser: Type.Object(
      {
        enabled: Type.Boolean({
          description:
            "Create the first admin user of the FAB auth manager with a Job after the migrations (a second run leaves an " +
            "existing user alone). Turn off when sign-in is managed otherwise (single sign-on in webserver_config, another auth manager).",
          default: true,
        }),
        username: Type.String({ pattern: P.airflowUsername, description: "Login of the first admin user.", default: "admin" }),
        email: Type.String({ pattern: P.email, description: "E-mail of the first admin user (unique among FAB users).", default: "admin@example.com" }),
        firstName: Type.String({ minLength: 1, description: "First name of the first admin user.", default: "Airflow" }),
        lastName: Type.String({ minLength: 1, description: "Last name of the first admin user.", default: "Admin" }),
      },
      {
        ...closed,
        description: "The first admin user; its password comes from Parameter Store (secrets.parameters.adminPassword).",
        default: {},
      },
    ),
    migrationWaitTimeoutSeconds: Type.Integer({
      minimum: 10,
      maximum: 3600,
      description:
        "How long each long-running pod waits in its init container for `airflow db migrate` to finish before retrying.",
      default: 300,
    }),
  },
  { ...closed, description: "Airflow itself: image and airflow.cfg.", default: {} },
);

const GitSync = Type.Object(
  {
    repository: GitUrl("Git repository holding the DAG sources (SSH `git@host:org/repo.git` or `https://`).", "git@github.com:acme/dags.git"),
    branch: Type.String({ minLength: 1, description: "Branch, tag or commit to follow.", default: "main" }),
    subPath: Type.String({
      pattern: P.subPath,
      description: "Directory inside the repository that holds the sources (empty for the repository root).",
      default: "",
    }),
    period: Type.String({ pattern: P.duration, description: "How often git-sync polls the repository.", default: "60s" }),
    image: Type.String({
      pattern: P.imageRef,
      description: "git-sync v4 image.",
      default: "registry.k8s.io/git-sync/git-sync:v4.4.2",
    }),
    auth: StringEnum(["ssh", "https", "none"] as const, {
      description:
        "How git-sync authenticates: an SSH key with known_hosts, an HTTPS username and token, or none (public repository).",
      default: "ssh",
    }),
  },
  {
    ...closed,
    required: ["repository"],
    description: "git-sync copies the DAG sources from git to the shared DAG volume.",
  },
);

const Builder = Type.Object(
  {
    image: Type.String({
      pattern: P.imageRef,
      description: "Image of the DAG builder, a long-running process that turns the synced sources into DAG files.",
      examples: ["acme/dag-builder:1.4.0"],
    }),
    command: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description:
        "Command of the builder container: a long-running process that reads the sources from $DAG_SOURCES_DIR " +
        "(/git/repo/<subPath>, refreshed by git-sync) and writes DAG files to $DAGS_DIR (/opt/airflow/dags).",
      examples: [["build-dags", "--watch", "/git/repo", "/opt/airflow/dags"]],
    }),
  },
  {
    ...closed,
    required: ["image", "command"],
    description:
      "Optional DAG builder. Without it, git-sync writes straight to the DAG volume and Airflow reads the synced files.",
  },
);

const Dags = Type.Object(
  { gitSync: GitSync, builder: Type.Optional(Builder) },
  { ...closed, required: ["gitSync"], description: "Where DAGs come from." },
);

const Storage = Type.Object(
  {
    efs: Type.Object(
      {
        fileSystemId: Type.String({
          pattern: P.fileSystemId,
          description: "EFS file system that holds the DAG and log volumes (dynamic provisioning with access points).",
          examples: ["fs-0123456789abcdef0"],
        }),
      },
      { ...closed, required: ["fileSystemId"], description: "Amazon EFS, through the EFS CSI driver." },
    ),
    dags: Type.Object(
      { size: Quantity("Requested size of the DAG volume (EFS is elastic; Kubernetes requires a number).", "10Gi") },
      { ...closed, description: "The shared DAG volume (ReadWriteMany).", default: {} },
    ),
    logs: Type.Object(
      { size: Quantity("Requested size of the log volume (EFS is elastic; Kubernetes requires a number).", "100Gi") },
      { ...closed, description: "The shared task-log volume (ReadWriteMany).", default: {} },
    ),
  },
  { ...closed, required: ["efs"], description: "Shared volumes for DAGs and task logs." },
);

const Aws = Type.Object(
  {
    region: Type.String({
      pattern: P.awsRegion,
      description: "AWS region of the cluster and of the Parameter Store entries.",
      examples: ["sa-east-1"],
    }),
    accountId: Type.Optional(
      Type.String({
        pattern: P.awsAccountId,
        description: "AWS account id, used to write exact ARNs in the generated IAM policy for the secrets role.",
        examples: ["123456789012"],
      }),
    ),
  },
  { ...closed, required: ["region"], description: "The AWS account the deployment runs in." },
);

const Ingress = Type.Object(
  {
    className: Type.String({ pattern: P.dnsLabel, description: "IngressClass of the AWS Load Balancer Controller.", default: "alb" }),
    scheme: StringEnum(["internal", "internet-facing"] as const, {
      description: "Whether the load balancer is reachable only inside the VPC or from the internet.",
      default: "internal",
    }),
    host: Type.Optional(
      Type.String({ pattern: P.hostname, description: "Host name the UI is served at (every host when unset).", examples: ["airflow.example.com"] }),
    ),
    certificateArn: Type.Optional(
      Type.String({
        pattern: P.acmCertificateArn,
        description: "ACM certificate for HTTPS; with it the load balancer listens on 443 and redirects 80 to 443.",
        examples: ["arn:aws:acm:sa-east-1:123456789012:certificate/6f1c2a4e-8b3d-4e5f-9a7b-0c1d2e3f4a5b"],
      }),
    ),
    allowedCidrs: Type.Array(
      Type.String({ pattern: P.cidr }),
      {
        minItems: 1,
        description: "Client ranges allowed to reach the UI and API: the load balancer's inbound rule (alb.ingress.kubernetes.io/inbound-cidrs).",
        default: ["0.0.0.0/0"],
      },
    ),
    vpcCidrs: Type.Optional(
      Type.Array(Type.String({ pattern: P.cidr }), {
        minItems: 1,
        description:
          "The VPC's ranges (or the load balancer's subnets). With target-type ip the load balancer connects to the api-server " +
          "pods from its own addresses in the VPC, so the api-server NetworkPolicy admits these, and the api-server trusts " +
          "X-Forwarded-* headers only from them. Required (top level or per environment).",
        examples: [["10.0.0.0/16"]],
      }),
    ),
  },
  { ...closed, description: "The ALB Ingress in front of the api-server.", default: {} },
);

function ParameterPath(what: string, defaultPath: string) {
  return Type.String({
    pattern: P.parameterPath,
    description: `Parameter Store name of ${what} (SecureString); {env} is replaced by the environment name.`,
    default: defaultPath,
  });
}

const Secrets = Type.Object(
  {
    store: StringEnum(["SecretStore", "ClusterSecretStore"] as const, {
      description:
        "A namespaced SecretStore per environment, or a ClusterSecretStore limited to the environment's namespace " +
        "(for clusters where stores are managed centrally).",
      default: "SecretStore",
    }),
    refreshInterval: Type.String({
      pattern: P.duration,
      description: "How often the External Secrets Operator re-reads each parameter (each read is an SSM API call).",
      default: "1h",
    }),
    parameters: Type.Object(
      {
        fernetKey: ParameterPath("the Fernet key (or comma-separated keys during a rotation)", "/airflow/{env}/fernet-key"),
        apiSecretKey: ParameterPath("the api-server's secret key", "/airflow/{env}/api-secret-key"),
        jwtSecret: ParameterPath("the JWT signing secret shared by the api-server and the scheduler", "/airflow/{env}/jwt-secret"),
        adminPassword: ParameterPath("the first admin user's password (airflow.adminUser)", "/airflow/{env}/admin-password"),
        database: Type.Object(
          {
            source: StringEnum(["url", "parts"] as const, {
              description:
                "url: one parameter holds the whole SQLAlchemy URL. parts: host, port, name, username and password " +
                "parameters are joined into postgresql://user:password@host:port/name, the password URL-encoded.",
              default: "url",
            }),
            url: ParameterPath("the metadata database URL (postgresql://...)", "/airflow/{env}/database/url"),
            host: ParameterPath("the database host (source: parts)", "/airflow/{env}/database/host"),
            port: ParameterPath("the database port (source: parts)", "/airflow/{env}/database/port"),
            name: ParameterPath("the database name (source: parts)", "/airflow/{env}/database/name"),
            username: ParameterPath("the database user (source: parts)", "/airflow/{env}/database/username"),
            password: ParameterPath("the database password (source: parts)", "/airflow/{env}/database/password"),
            sslMode: StringEnum(["require", "verify-full", "prefer", "disable"] as const, {
              description: "libpq sslmode appended to a URL built from parts.",
              default: "require",
            }),
          },
          { ...closed, description: "Where the metadata database connection comes from.", default: {} },
        ),
        git: Type.Object(
          {
            sshKey: ParameterPath("git-sync's SSH private key (auth: ssh)", "/airflow/{env}/git/ssh-key"),
            knownHosts: ParameterPath("the git host's known_hosts lines (auth: ssh)", "/airflow/{env}/git/known-hosts"),
            username: ParameterPath("the HTTPS user (auth: https)", "/airflow/{env}/git/username"),
            token: ParameterPath("the HTTPS token or password (auth: https)", "/airflow/{env}/git/token"),
          },
          { ...closed, description: "git-sync credentials, as dags.gitSync.auth needs them.", default: {} },
        ),
      },
      { ...closed, description: "Parameter Store names of every secret.", default: {} },
    ),
  },
  {
    ...closed,
    description: "Secrets come from AWS Systems Manager Parameter Store through the External Secrets Operator; none is ever in git.",
    default: {},
  },
);

const Repository = Type.Object(
  {
    url: GitUrl("This repository, as Argo CD clones it.", "https://github.com/acme/airflow-gitops.git"),
    revision: Type.String({ minLength: 1, description: "Branch, tag or commit Argo CD follows.", default: "main" }),
  },
  { ...closed, required: ["url"], description: "Where the generated manifests live, for Argo CD." },
);

const ArgoEnvironment = Type.Object(
  {
    server: Type.Optional(
      Type.String({
        pattern: "^https://",
        description: "API server URL of the destination cluster (default: the cluster Argo CD runs in). Not with name.",
        examples: ["https://ABC123.gr7.sa-east-1.eks.amazonaws.com"],
      }),
    ),
    name: Type.Optional(
      Type.String({ minLength: 1, description: "Name of the destination cluster as registered in Argo CD. Not with server.", examples: ["prod-cluster"] }),
    ),
    revision: Type.Optional(
      Type.String({ minLength: 1, description: "Branch, tag or commit for this environment (default: repository.revision).", examples: ["release"] }),
    ),
    automated: Type.Object(
      {
        prune: Type.Boolean({ description: "Delete objects that left the repository.", default: true }),
        selfHeal: Type.Boolean({ description: "Undo changes made to the cluster by hand.", default: true }),
      },
      { ...closed, description: "Automated sync of the environment.", default: {} },
    ),
  },
  { ...closed, description: "Argo CD settings of one environment.", default: {} },
);

const ArgoCd = Type.Object(
  {
    namespace: Type.String({ pattern: P.dnsLabel, description: "Namespace Argo CD runs in; the Applications go there.", default: "argocd" }),
    mode: StringEnum(["applications", "applicationSet"] as const, {
      description: "One Application per environment, or one ApplicationSet (list generator) that writes them, for many clusters.",
      default: "applications",
    }),
    environments: Type.Record(Type.String({ pattern: P.environmentName }), ArgoEnvironment, {
      ...closed,
      description: "Per-environment Argo CD settings, by environment name; environments not listed get the defaults.",
      default: {},
      examples: [{ prod: { server: "https://ABC123.gr7.sa-east-1.eks.amazonaws.com", automated: { prune: true, selfHeal: true } } }],
    }),
  },
  { ...closed, description: "The Argo CD project, Applications and bootstrap written to argocd/.", default: {} },
);

const Components = Type.Object(
  {
    apiServer: Type.Object(
      {
        replicas: Replicas("api-server replicas (UI, REST API and the Execution API that task pods call).", 1),
        resources: Resources("api-server container resources.", { cpu: "250m", memory: "1Gi" }, "2Gi"),
      },
      { ...closed, description: "The api-server Deployment.", default: {} },
    ),
    scheduler: Type.Object(
      {
        replicas: Replicas("Scheduler replicas (Airflow 3 schedulers run active-active).", 1),
        resources: Resources("Scheduler container resources.", { cpu: "500m", memory: "1Gi" }, "2Gi"),
      },
      { ...closed, description: "The scheduler Deployment, which launches one pod per task.", default: {} },
    ),
    dagProcessor: Type.Object(
      {
        replicas: Replicas("DAG processor replicas.", 1),
        resources: Resources("DAG processor container resources.", { cpu: "250m", memory: "1Gi" }, "2Gi"),
      },
      { ...closed, description: "The DAG processor Deployment (parses DAG files; mandatory in Airflow 3).", default: {} },
    ),
    triggerer: Type.Object(
      {
        replicas: Replicas("Triggerer replicas.", 1),
        resources: Resources("Triggerer container resources.", { cpu: "100m", memory: "512Mi" }, "1Gi"),
      },
      { ...closed, description: "The triggerer Deployment (runs deferred tasks).", default: {} },
    ),
    statsd: Type.Object(
      {
        image: Type.String({
          pattern: P.imageRef,
          description: "Prometheus statsd exporter image.",
          default: "quay.io/prometheus/statsd-exporter:v0.28.0",
        }),
        resources: Resources("statsd exporter container resources.", { cpu: "50m", memory: "64Mi" }, "128Mi"),
      },
      { ...closed, description: "The statsd exporter that turns Airflow metrics into Prometheus metrics.", default: {} },
    ),
    dagSync: Type.Object(
      {
        gitSyncResources: Resources("git-sync container resources.", { cpu: "50m", memory: "64Mi" }, "256Mi"),
        builderResources: Resources("DAG builder container resources.", { cpu: "100m", memory: "256Mi" }, "1Gi"),
      },
      { ...closed, description: "The dag-sync Deployment (git-sync plus the optional builder).", default: {} },
    ),
    worker: Type.Object(
      {
        resources: Resources("Resources of each task pod.", { cpu: "250m", memory: "512Mi" }, "2Gi"),
        terminationGracePeriodSeconds: Type.Integer({
          minimum: 0,
          maximum: 86400,
          description: "How long a task pod may take to finish after it is asked to stop.",
          default: 600,
        }),
      },
      { ...closed, description: "Task pods launched by the KubernetesExecutor (pod_template_file).", default: {} },
    ),
    migrations: Type.Object(
      {
        resources: Resources("Resources of the `airflow db migrate` Job and of the wait-for-migrations init containers.", { cpu: "100m", memory: "512Mi" }, "1Gi"),
      },
      { ...closed, description: "Database migrations.", default: {} },
    ),
  },
  { ...closed, description: "Per-component settings shared by every environment.", default: {} },
);

const Environment = Type.Object(
  {
    description: Type.String({ description: "What this environment is for (shown in Argo CD).", default: "" }),
    namespace: Type.Optional(
      Type.String({
        pattern: P.dnsLabel,
        description: "Namespace of this environment (default: the top-level namespace). Environments sharing a cluster need different ones.",
        examples: ["airflow-dev"],
      }),
    ),
    airflow: Type.Optional(overridesOf(Airflow, "Airflow image and airflow.cfg entries of this environment; config entries merge per option.")),
    ingress: Type.Optional(overridesOf(Ingress, "Ingress settings of this environment (host, certificate, scheme, allowed sources).")),
    storage: Type.Optional(overridesOf(Storage, "EFS file system and volume sizes of this environment.")),
    secrets: Type.Optional(overridesOf(Secrets, "Secret store kind, refresh interval and parameter names of this environment.")),
    components: Type.Optional(overridesOf(Components, "Replicas and resources of this environment; unset fields keep the top-level values.")),
    iam: Type.Optional(Iam),
    autoscaling: Type.Optional(Autoscaling),
    peakHours: Type.Optional(PeakHours),
  },
  { ...closed, description: "One environment (an overlay and an Argo CD Application).", default: {} },
);

export const ConfigSchema = Type.Object(
  {
    name: Type.String({
      pattern: P.dnsLabel,
      maxLength: 40,
      description: "Prefix of every object name (`<name>-scheduler`) and the app.kubernetes.io/instance label.",
      default: "airflow",
    }),
    namespace: Type.String({
      pattern: P.dnsLabel,
      description: "Namespace Airflow runs in; task pods are launched there too.",
      default: "airflow",
    }),
    repository: Repository,
    argocd: ArgoCd,
    airflow: Airflow,
    dags: Dags,
    storage: Storage,
    aws: Aws,
    ingress: Ingress,
    secrets: Secrets,
    components: Components,
    environments: Type.Record(Type.String({ pattern: P.environmentName }), Environment, {
      ...closed,
      minProperties: 1,
      description: "Environments by name (lower case, e.g. dev, prod): each becomes overlays/<name>.",
      examples: [{ dev: {}, prod: {} }],
    }),
  },
  {
    ...closed,
    title: "airflow-gitops configuration",
    description: "One file describes an Airflow 3 deployment on EKS and all its environments.",
    required: ["repository", "dags", "storage", "aws", "environments"],
  },
);

export type Config = Static<typeof ConfigSchema>;
export type ComponentResources = Config["components"]["apiServer"]["resources"];
export type EnvironmentConfig = Config["environments"][string];
export type { AutoscalingConfig, IamConfig, PeakHoursConfig, PeakWindow } from "./environment-schema.js";

/** The schema as plain JSON (TypeBox's symbol keys dropped), as published for editors. */
export function configJsonSchema(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(ConfigSchema as TSchema)) as Record<string, unknown>;
}
