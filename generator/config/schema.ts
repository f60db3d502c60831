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
import { OverlayPatches, Pods } from "./pods-schema.js";
import { Auth } from "./auth-schema.js";

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
      "Extra airflow.cfg entries as section -> option -> value. Checked against the options of the Airflow line each environment runs " +
      "(core and the providers its image ships); " +
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
          pattern: P.imageRepository,
          description: "Airflow image repository (without tag), used by every Airflow container and by task pods.",
          default: "apache/airflow",
        }),
        tag: Type.String({
          pattern: P.imageTag,
          description:
            "Airflow image tag (never `latest`), optionally pinned to a digest as `3.3.2@sha256:<digest>`. It starts with the Airflow " +
            "version the image holds (3.3.2, or 3.3.2-acme.1 for an image of your own), whose line must be supported: 3.3 or 3.2.",
          default: "3.3.2",
        }),
      },
      { ...closed, description: "The Airflow image.", default: {} },
    ),
    config: AirflowConfig,
    auth: Auth,
    adminUser: Type.Object(
      {
        enabled: Type.Optional(
          Type.Boolean({
            description:
              "Create the first admin user of the FAB auth manager with a Job after the migrations (a second run leaves an " +
              "existing user alone). Unset: on without airflow.auth.sso, off with it (set true to keep a local admin beside " +
              "single sign-on, for the API's password tokens). Off with another auth manager.",
            examples: [true],
          }),
        ),
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
    dbClean: Type.Object(
      {
        enabled: Type.Boolean({ description: "Purge old rows of the metadata database with a CronJob running `airflow db clean`.", default: false }),
        retentionDays: Type.Integer({ minimum: 1, maximum: 3650, description: "Rows older than this many days are deleted (not archived).", default: 90 }),
        schedule: Type.String({ pattern: P.cronSchedule, description: "Cron schedule (UTC) of the cleanup.", default: "15 3 * * *" }),
      },
      { ...closed, description: "Metadata database cleanup.", default: {} },
    ),
    stateStoreClean: Type.Object(
      {
        enabled: Type.Optional(
          Type.Boolean({
            description:
              "Expire the task state store (Airflow 3.3) with a CronJob running `airflow state-store clean`, which deletes the rows " +
              "past their expiry ([state_store] default_retention_days in airflow.config); otherwise only `airflow db clean` " +
              "(airflow.dbClean) deletes them, by age. Unset: on for a line that has the state store, off for 3.2.",
            examples: [true],
          }),
        ),
        schedule: Type.String({ pattern: P.cronSchedule, description: "Cron schedule (UTC) of the state store cleanup.", default: "45 3 * * *" }),
      },
      { ...closed, description: "Task state store cleanup (Airflow 3.3 and later).", default: {} },
    ),
    database: Type.Object(
      {
        maxConnections: Type.Optional(
          Type.Integer({
            minimum: 1,
            description:
              "The metadata database's connection limit (PostgreSQL's max_connections; on RDS it follows the instance class). " +
              "gen warns when the Airflow processes at their most replicas could open more (each holds up to " +
              "[database] sql_alchemy_pool_size + sql_alchemy_max_overflow connections).",
            examples: [400],
          }),
        ),
      },
      { ...closed, description: "What the metadata database can hold.", default: {} },
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
      "Optional DAG builder of your own image (instead of the built-in `taskSpecs` builder). Without either, git-sync " +
      "writes straight to the DAG volume and Airflow reads the synced files.",
  },
);

const TaskSpecPod = Type.Object(
  {
    image: Type.String({
      pattern: P.imageRef,
      description: "Image each task runs in (a Spark or Hive client, for instance).",
      examples: ["acme/spark-sql:3.5.1"],
    }),
    command: Type.Array(Type.String({ minLength: 1 }), {
      description: "Command of the task container; empty keeps the image's entrypoint.",
      default: [],
    }),
    arguments: Type.Array(Type.String(), {
      description:
        "Arguments of the task container, per task: {sql_file} (the query file's path relative to the spec folder), " +
        "{task_id}, {dag_id}, {table} and {conn_id} are replaced.",
      default: ["{sql_file}"],
    }),
    namespace: Type.Optional(
      Type.String({ pattern: P.dnsLabel, description: "Namespace of the task pods (default: Airflow's namespace).", examples: ["data-jobs"] }),
    ),
  },
  {
    ...closed,
    required: ["image"],
    description: 'With operator "pod": the pod each task runs as (KubernetesPodOperator).',
    examples: [{ image: "acme/spark-sql:3.5.1", command: ["spark-sql"], arguments: ["-f", "/specs/{sql_file}"] }],
  },
);

const TaskSpecs = Type.Object(
  {
    defaultDag: Type.String({
      pattern: P.airflowId,
      description: "DAG of the specs that name no `dag`; one DAG file is written per DAG.",
      default: "task_specs",
    }),
    schedule: Type.String({ pattern: P.airflowSchedule, description: "Schedule of every task-spec DAG (UTC): a cron schedule or an Airflow preset.", default: "@daily" }),
    startDate: Type.String({ pattern: P.isoDate, description: "Start date of the DAGs (UTC); runs before it are never made.", default: "2024-01-01" }),
    connId: Type.String({ minLength: 1, description: "Airflow connection the queries run on, unless a spec names its `conn_id`.", default: "warehouse" }),
    retries: Type.Integer({ minimum: 0, description: "Retries of each task, unless its spec says otherwise.", default: 2 }),
    owner: Type.String({ minLength: 1, description: "Owner of each task, unless its spec says otherwise.", default: "data" }),
    operator: StringEnum(["sql", "pod"] as const, {
      description:
        "How a task runs: `sql` runs the query file with SQLExecuteQueryOperator (common.sql provider) on the connection; " +
        "`pod` starts a pod per task (KubernetesPodOperator) as `pod` describes.",
      default: "sql",
    }),
    pod: Type.Optional(TaskSpecPod),
    tags: Type.Array(Type.String({ minLength: 1 }), { description: "Tags of the task-spec DAGs in the Airflow UI.", default: ["task-specs"] }),
    pollSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      description: "How often the builder looks for changed specs; it rebuilds only when an input changed.",
      default: 30,
    }),
  },
  {
    ...closed,
    description:
      "The built-in DAG builder: each YAML task spec synced by git-sync becomes a task, run after the tasks writing the " +
      "tables it reads; one DAG file per DAG. A spec has `id` (task id), `sql` (its query file, relative to the spec) and " +
      "`depends_on` (tables it reads), optionally `table` (the table it writes; default: its id), `dag`, `retries`, `pool`, " +
      "`owner` and `conn_id`; tables no task writes are listed in a `sources.yaml`. The builder runs in the environment's " +
      "Airflow image, its source shipped in a ConfigMap; see builder/README.md. Use either this or `builder`.",
    examples: [{ defaultDag: "warehouse", schedule: "0 4 * * *", connId: "warehouse" }],
  },
);

const Dags = Type.Object(
  { gitSync: GitSync, taskSpecs: Type.Optional(TaskSpecs), builder: Type.Optional(Builder) },
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
      {
        size: Quantity("Requested size of the log volume (EFS is elastic; Kubernetes requires a number).", "100Gi"),
        s3BaseFolder: Type.Optional(
          Type.String({
            pattern: P.s3Folder,
            description:
              "Send task logs to S3 ([logging] remote_logging) under this folder; {env} is replaced by the environment name. " +
              "Pods write with their IAM role (IRSA or Pod Identity) through a connection without keys; the environment's " +
              "secrets README lists the IAM policy.",
            examples: ["s3://acme-airflow-logs/{env}"],
          }),
        ),
        volume: Type.Boolean({
          description:
            "Keep the shared EFS log volume. With s3BaseFolder it may be turned off: each pod then logs to a scratch volume " +
            "and uploads to S3, and the api-server reads logs from S3. The same for every environment (it shapes the base).",
          default: true,
        }),
        retention: Type.Object(
          {
            days: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 3650,
                description:
                  "Delete task logs older than this many days. On the shared log volume a CronJob deletes them; with s3BaseFolder the " +
                  "environment's secrets README gives the S3 lifecycle rule for the same age. Unset: logs are kept.",
                examples: [30],
              }),
            ),
            schedule: Type.String({ pattern: P.cronSchedule, description: "Cron schedule (UTC) of the cleanup of the log volume.", default: "45 2 * * *" }),
          },
          { ...closed, description: "How long task logs are kept.", default: {} },
        ),
      },
      { ...closed, description: "Task logs: the shared log volume (ReadWriteMany) and, optionally, S3.", default: {} },
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
        description:
          "ACM certificate for HTTPS. The load balancer listens on 443 and redirects 80 to 443 whenever it has a certificate: " +
          "this one, or without it the ACM certificate the AWS Load Balancer Controller discovers for `host`.",
        examples: ["arn:aws:acm:sa-east-1:123456789012:certificate/6f1c2a4e-8b3d-4e5f-9a7b-0c1d2e3f4a5b"],
      }),
    ),
    sslPolicy: Type.String({
      pattern: "^ELBSecurityPolicy-[A-Za-z0-9-]+$",
      description: "The load balancer's TLS policy (alb.ingress.kubernetes.io/ssl-policy): TLS 1.3 and 1.2 only by default.",
      default: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    }),
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
          "The load balancer's subnet ranges. With target-type ip the load balancer connects to the api-server " +
          "pods from its own addresses in the VPC, so the api-server NetworkPolicy admits these, and the api-server trusts " +
          "X-Forwarded-* headers only from them. On EKS with the VPC CNI pods have VPC addresses, so the whole VPC range would admit " +
            "every pod: prefer the ALB subnets. Required (top level or per environment).",
        examples: [["10.0.0.0/16"]],
      }),
    ),
  },
  { ...closed, description: "The ALB Ingress in front of the api-server.", default: {} },
);

const Port = (description: string, dflt?: number) =>
  Type.Integer({ minimum: 1, maximum: 65535, description, ...(dflt === undefined ? {} : { default: dflt }) });

const EgressRule = Type.Object(
  {
    cidr: Type.String({ pattern: P.cidr, description: "Destination range." }),
    except: Type.Array(Type.String({ pattern: P.cidr }), { description: "Ranges inside `cidr` left out.", default: [] }),
    ports: Type.Array(Port("A TCP port."), { description: "TCP ports; empty allows every port and protocol.", default: [] }),
  },
  { ...closed, description: "One destination task code may reach." },
);

const Network = Type.Object(
  {
    databasePort: Port("Port of the metadata database: the only port the database users may reach outside the cluster.", 5432),
    kubernetesApiPort: Port("Port of the Kubernetes API endpoint (EKS: 443), reached by the scheduler, api-server, triggerer and pod cleanup.", 443),
    taskEgress: Type.Array(EgressRule, {
      description:
        "Where task pods (and the triggerer, which runs deferred tasks) may connect besides Airflow's own services and DNS: their " +
        "warehouses and APIs. The instance metadata endpoint (169.254.169.254) is always left out. Narrow the default to your ranges.",
      default: [{ cidr: "0.0.0.0/0", except: [], ports: [] }],
      examples: [[{ cidr: "10.20.0.0/16", ports: [5439, 443] }]],
    }),
  },
  {
    ...closed,
    description:
      "Egress NetworkPolicies: every Airflow pod is denied egress except DNS, its own services and the flows its component needs " +
      "(the database port, the Kubernetes API and AWS APIs on 443, git for dag-sync); no pod reaches the instance metadata endpoint. " +
      "Enforced where the cluster enforces NetworkPolicies (EKS: the VPC CNI with network policy enabled).",
    default: {},
  },
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
    reloadOnChange: Type.Boolean({
      description:
        "Restart the pods that read a Secret when the operator refreshes it with a new value, through Stakater Reloader " +
        "(secret.reloader.stakater.com/reload on each Deployment; install Reloader with reloadStrategy annotations). " +
        "A rotated parameter then reaches every pod within refreshInterval plus one rollout.",
      default: false,
    }),
    parameters: Type.Object(
      {
        fernetKey: ParameterPath("the Fernet key (or comma-separated keys during a rotation)", "/airflow/{env}/fernet-key"),
        apiSecretKey: ParameterPath("the api-server's secret key", "/airflow/{env}/api-secret-key"),
        jwtSecret: ParameterPath("the JWT signing secret shared by the api-server and the scheduler", "/airflow/{env}/jwt-secret"),
        adminPassword: ParameterPath("the first admin user's password (airflow.adminUser)", "/airflow/{env}/admin-password"),
        ssoClientSecret: ParameterPath("the OAuth client secret of single sign-on (airflow.auth.sso)", "/airflow/{env}/sso/client-secret"),
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
    namespace: Type.String({ pattern: P.dnsLabel, description: "Namespace Argo CD runs in; the projects and the root Application go there.", default: "argocd" }),
    applicationsNamespace: Type.Optional(
      Type.String({
        pattern: P.dnsLabel,
        description:
          "Namespace of the environments' Applications (default: `<argocd.namespace>-<name>`), which the root Application syncs " +
          "from argocd/apps/. Argo CD must watch it (`application.namespaces` in argocd-cmd-params-cm); an Application there may use " +
          "only the environment project, so a commit cannot reach another project or the Argo CD namespace.",
        examples: ["argocd-airflow"],
      }),
    ),
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
        failedPodCleanupSchedule: Type.String({
          pattern: P.cronSchedule,
          description:
            "Failed task pods are kept for debugging (`kubectl logs`, `describe`) until `airflow kubernetes cleanup-pods` runs on this " +
            "cron schedule (UTC): each stays between 0 and one interval, whatever its age. The command also deletes Evicted pods, " +
            "pods Pending for over 30 minutes, and KubernetesPodOperator pods, which carry the same task labels. Succeeded pods are deleted at once.",
          default: "30 */6 * * *",
        }),
        podLauncher: Type.Object(
          {
            enabled: Type.Boolean({
              description:
                "Let tasks launch pods in the namespace (KubernetesPodOperator): a Role on pods and pods/log bound to the task " +
                "ServiceAccount, whose token is then mounted. Off: task pods get no Kubernetes token at all.",
              default: false,
            }),
            exec: Type.Boolean({ description: "Also allow pods/exec (only if operators exec into their pods).", default: false }),
          },
          { ...closed, description: "Kubernetes API access of task pods.", default: {} },
        ),
      },
      { ...closed, description: "Task pods launched by the KubernetesExecutor (pod_template_file).", default: {} },
    ),
    migrations: Type.Object(
      {
        resources: Resources("Resources of the `airflow db migrate` Job and of the wait-for-migrations init containers.", { cpu: "100m", memory: "512Mi" }, "1Gi"),
        activeDeadlineSeconds: Type.Integer({
          minimum: 60,
          maximum: 86400,
          description:
            "How long the migration Job may run before Kubernetes stops it and marks it failed (DeadlineExceeded), which fails the sync " +
            "instead of holding it: a migration waiting on a lock never ends by itself. Raise it for a major upgrade of a large database.",
          default: 3600,
        }),
      },
      { ...closed, description: "Database migrations.", default: {} },
    ),
  },
  { ...closed, description: "Per-component settings shared by every environment.", default: {} },
);

const Monitoring = Type.Object(
  {
    prometheusOperator: Type.Boolean({
      description:
        "The cluster runs the Prometheus operator (kube-prometheus-stack): write a ServiceMonitor for the statsd exporter and a PrometheusRule " +
        "with Airflow's alerts. Their CRDs must be installed before the first sync.",
      default: false,
    }),
    labels: Type.Record(Type.String({ pattern: P.labelKey }), Type.String({ pattern: P.labelValue }), {
      ...closed,
      description:
        "Labels on the ServiceMonitor and the PrometheusRule, so the Prometheus's serviceMonitorSelector and ruleSelector pick them " +
        "(kube-prometheus-stack selects `release: <its release name>`).",
      default: {},
      examples: [{ release: "kube-prometheus-stack" }],
    }),
    scrapeInterval: Type.String({ pattern: P.duration, description: "How often Prometheus scrapes the statsd exporter.", default: "30s" }),
    alerts: Type.Object(
      {
        taskFailurePercent: Type.Integer({
          minimum: 1,
          maximum: 100,
          description: "AirflowTaskFailureRateHigh fires when more than this share of the tasks that finished in the last 30 minutes failed, for 15 minutes.",
          default: 20,
        }),
        queuedMinutes: Type.Integer({
          minimum: 5,
          maximum: 1440,
          description: "AirflowTasksStuckQueued fires when the executor's queue has not been empty once for this many minutes.",
          default: 15,
        }),
      },
      { ...closed, description: "Thresholds of the alerts that have one.", default: {} },
    ),
  },
  { ...closed, description: "Prometheus scraping and alerts (with the Prometheus operator).", default: {} },
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
    monitoring: Type.Optional(overridesOf(Monitoring, "Monitoring of this environment (for example off in dev, on in prod).")),
    pods: Type.Optional(
      Type.Object(Pods.properties, {
        ...closed,
        description: "Escape hatches of this environment, added to the top-level pods ones.",
        examples: [{ scheduler: { podAnnotations: { "example.com/tier": "gold" } } }],
      }),
    ),
    patches: Type.Optional(OverlayPatches),
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
    network: Network,
    secrets: Secrets,
    components: Components,
    monitoring: Monitoring,
    pods: Pods,
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
