/**
 * git-sync copies the DAG sources to the shared DAG volume; with a builder (the built-in one or an
 * image of the user's), git-sync writes to a scratch volume and the builder writes the DAG files.
 * One replica, so one writer at a time.
 */
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import type { Target } from "../target.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { AIRFLOW_UID, DAGS_MOUNT, GIT_LINK, GIT_ROOT, GIT_SYNC_UID } from "../paths.js";
import { claimVolume, containerSecurityContext, podSecurityContext, resources, VOLUME } from "../pod.js";
import { gitCredentials } from "../secret-refs.js";
import { checksum } from "../hash.js";
import { componentDeployment } from "../workload.js";
import { builtInBuilderContainer, dagBuilderConfigMap, usesDagBuilder } from "./dag-builder.js";
import type { BaseContext, Manifest } from "./types.js";
import { byCodeUnit } from "../../shared/order.js";

const SOURCES_VOLUME = "dag-sources";
const CREDENTIALS_VOLUME = "git-credentials";
const CREDENTIALS_DIR = "/etc/git-secret";
const GIT_SYNC_HOME = "/tmp";
const GIT_SYNC_HOME_VOLUME = "git-sync-home";

export function dagSync(config: Target, ctx: BaseContext): Manifest[] {
  const n = names(config);
  const { gitSync, builder } = config.dags;
  const creds = gitCredentials(config);
  const builderConfigMap = dagBuilderConfigMap(config);
  // Without a builder git-sync writes straight into the DAG volume; with one, into a scratch volume.
  const gitVolume = usesDagBuilder(config) ? SOURCES_VOLUME : VOLUME.dags;
  const sourcesDir = [GIT_ROOT, GIT_LINK, gitSync.subPath].filter(Boolean).join("/");
  const builderMounts: IVolumeMount[] = [
    { name: SOURCES_VOLUME, mountPath: GIT_ROOT, readOnly: true },
    { name: VOLUME.dags, mountPath: DAGS_MOUNT },
  ];
  const builderSecurityContext = containerSecurityContext({ runAsUser: AIRFLOW_UID, runAsGroup: 0 });

  const env: IEnvVar[] = [
    { name: "GITSYNC_REPO", value: gitSync.repository },
    { name: "GITSYNC_REF", value: gitSync.branch },
    { name: "GITSYNC_ROOT", value: GIT_ROOT },
    { name: "GITSYNC_LINK", value: GIT_LINK },
    { name: "GITSYNC_PERIOD", value: gitSync.period },
    { name: "GITSYNC_DEPTH", value: "1" },
    { name: "GITSYNC_MAX_FAILURES", value: "3" },
    // Files on an EFS access point belong to the access point's uid, not git-sync's: without this git
    // refuses the checkout as of "dubious ownership".
    { name: "GITSYNC_GIT_CONFIG", value: "safe.directory:*" },
    // git-sync writes its global git config and SSH files under $HOME; the root filesystem is read-only.
    { name: "HOME", value: GIT_SYNC_HOME },
  ];
  const volumes: IVolume[] = [{ name: GIT_SYNC_HOME_VOLUME, emptyDir: { sizeLimit: "64Mi" } }];
  const gitMounts: IVolumeMount[] = [
    { name: gitVolume, mountPath: GIT_ROOT },
    { name: GIT_SYNC_HOME_VOLUME, mountPath: GIT_SYNC_HOME },
  ];
  if (gitSync.auth === "ssh") {
    env.push(
      { name: "GITSYNC_SSH_KEY_FILE", value: `${CREDENTIALS_DIR}/ssh` },
      { name: "GITSYNC_SSH_KNOWN_HOSTS", value: "true" },
      { name: "GITSYNC_SSH_KNOWN_HOSTS_FILE", value: `${CREDENTIALS_DIR}/known_hosts` },
    );
    // 0400 plus the pod's fsGroup: readable by git-sync's group, owned by root, which OpenSSH accepts.
    volumes.push({
      name: CREDENTIALS_VOLUME,
      secret: {
        secretName: creds.secretName,
        defaultMode: 0o400,
        items: [
          { key: creds.ssh.keyKey, path: "ssh" },
          { key: creds.ssh.knownHostsKey, path: "known_hosts" },
        ],
      },
    });
    gitMounts.push({ name: CREDENTIALS_VOLUME, mountPath: CREDENTIALS_DIR, readOnly: true });
  } else if (gitSync.auth === "https") {
    env.push(
      { name: "GITSYNC_USERNAME", valueFrom: { secretKeyRef: { name: creds.secretName, key: creds.https.usernameKey } } },
      { name: "GITSYNC_PASSWORD", valueFrom: { secretKeyRef: { name: creds.secretName, key: creds.https.passwordKey } } },
    );
  }

  const containers: IContainer[] = [
    {
      name: "git-sync",
      image: gitSync.image,
      imagePullPolicy: "IfNotPresent",
      env,
      resources: resources(config.components.dagSync.gitSyncResources),
      securityContext: containerSecurityContext({ readOnlyRootFilesystem: true }),
      volumeMounts: gitMounts,
    },
  ];
  if (builderConfigMap) {
    const { container, volume } = builtInBuilderContainer(config, builderConfigMap, sourcesDir, builderMounts);
    containers.push({ ...container, resources: resources(config.components.dagSync.builderResources), securityContext: builderSecurityContext });
    volumes.push(volume);
  } else if (builder) {
    containers.push({
      name: "dag-builder",
      image: builder.image,
      imagePullPolicy: "IfNotPresent",
      command: builder.command,
      env: [
        { name: "DAG_SOURCES_DIR", value: sourcesDir },
        { name: "DAGS_DIR", value: DAGS_MOUNT },
      ],
      resources: resources(config.components.dagSync.builderResources),
      securityContext: builderSecurityContext,
      volumeMounts: builderMounts,
    });
  }
  if (usesDagBuilder(config)) volumes.push({ name: SOURCES_VOLUME, emptyDir: { sizeLimit: "1Gi" } });
  volumes.push(claimVolume(VOLUME.dags, n.dagsClaim));
  const podAnnotations = {
    ...ctx.dagSyncPodAnnotations,
    // A new builder or new settings roll the pod.
    ...(builderConfigMap ? { "checksum/dag-builder": checksum(builderConfigMap.object.data) } : {}),
  };

  const deployment = componentDeployment(config, "dag-sync", {
    replicas: 1,
    reloadSecrets: gitSync.auth === "none" ? [] : [creds.secretName],
    // Never two writers on the DAG volume, even during a rollout.
    strategy: { type: "Recreate" },
    ...(Object.keys(podAnnotations).length > 0 ? { podAnnotations } : {}),
    pod: {
      securityContext: podSecurityContext(GIT_SYNC_UID, GIT_SYNC_UID),
      containers,
      volumes: volumes.sort((a, b) => byCodeUnit(a.name, b.name)),
    },
  });
  return [...(builderConfigMap ? [builderConfigMap] : []), { component: "dag-sync", object: toKubeObject(deployment) }];
}
