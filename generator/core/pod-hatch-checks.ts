/**
 * The escape hatches against the pods they land in: a hatch may add, never take over what the generator
 * makes. Checked per build (the base with the top-level hatches, each environment with its own added):
 * env var, volume, mount path, container, pod label and annotation names must be new; a mount needs a
 * volume of its pod; the builder's hatches need the builder; a raw patch's target must select an object.
 */
import type { IContainer } from "kubernetes-models/v1/Container";
import { joinPath, type ConfigIssue } from "../config/issues.js";
import { hatchBlocks } from "../config/pod-rules.js";
import type { ContainerHatchesConfig, PodHatchesConfig, PodsConfig } from "../config/pods-schema.js";
import type { Config } from "../config/schema.js";
import { buildManifests } from "./base.js";
import { workerPodTemplate } from "./components/worker.js";
import { WORKER_SITE, hatchSite, podTemplateOf, type HatchSite, type PodTemplate, type Workload } from "./pod-hatches.js";
import { targetSelects } from "./overlay-patches.js";
import { CLUSTER_REFERENCES_ANNOTATION } from "./cluster-references.js";
import { secretsManifests } from "./secrets.js";
import { resolveEnvironment, type Target } from "./target.js";

interface Site {
  site: HatchSite;
  object: string;
  template: PodTemplate;
}

/** Every generated pod template of a build, without any hatch, with its site. */
function sitesOf(target: Target): Site[] {
  const bare: Target = { ...target, pods: {} };
  const sites: Site[] = [{ site: WORKER_SITE, object: "the task pod template", template: workerPodTemplate(bare) as PodTemplate }];
  for (const { object } of buildManifests(bare)) {
    const site = hatchSite(object);
    const template = podTemplateOf(object);
    if (site && template) sites.push({ site, object: `${object.kind} ${object.metadata.name}`, template });
  }
  return sites;
}

type Spec = { containers?: IContainer[]; initContainers?: IContainer[]; volumes?: { name: string }[] };

export function podHatchIssues(config: Config): ConfigIssue[] {
  const blocks = hatchBlocks(config);
  const issues: ConfigIssue[] = [];
  const shared = blocks.find((b) => b.at[0] === "pods")!;
  issues.push(...buildIssues(sitesOf(config), [shared]));
  // Every environment's build: a shared hatch may collide only there (an env var the environment's settings add).
  for (const name of Object.keys(config.environments)) {
    const own = blocks.find((b) => b.at[0] === "environments" && b.at[1] === name);
    issues.push(...buildIssues(sitesOf(resolveEnvironment(config, name)), own ? [shared, own] : [shared]));
  }
  for (const [name, env] of Object.entries(config.environments)) {
    if (!env.patches?.length) continue;
    const target = resolveEnvironment(config, name);
    const objects = [...buildManifests(target), ...secretsManifests(target)].map((m) => m.object);
    env.patches.forEach((patch, i) => {
      if (!objects.some((o) => targetSelects(patch.target, o))) {
        issues.push({ path: joinPath(["environments", name, "patches", i, "target"]), message: `selects no object of the ${name} overlay` });
      }
    });
  }
  return dedupe(issues);
}

/**
 * The hatches of `blocks` (the shared one, then the environment's) against one build's pods. The same
 * finding in several builds is one issue (podHatchIssues drops repeats).
 */
function buildIssues(sites: readonly Site[], blocks: readonly { at: (string | number)[]; pods: PodsConfig }[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report = (block: { at: (string | number)[] }, where: (string | number)[], message: string) => {
    issues.push({ path: joinPath([...block.at, ...where]), message });
  };
  const workloads = new Set(sites.map((s) => s.site.workload));
  for (const block of blocks) {
    for (const [workload, hatch] of Object.entries(block.pods) as [Workload, PodHatchesConfig | undefined][]) {
      if (!hatch) continue;
      if (workload === "builder" && !sites.some((s) => s.site.containers && containerOf(s.template, "dag-builder"))) {
        report(block, [workload], "the dag-sync pods run no builder here (dags.taskSpecs is off)");
      } else if (workload !== "gitSync" && workload !== "builder" && !workloads.has(workload)) {
        report(block, [workload], "this build has no such pods");
      }
    }
  }
  for (const { site, object, template } of sites) {
    const spec = (template.spec ?? {}) as Spec;
    const generatedVolumes = new Set((spec.volumes ?? []).map((v) => v.name));
    const generatedContainers = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name));
    const seen = { volumes: new Map<string, string>(), containers: new Map<string, string>() };
    const podHatches = blocks.map((b) => ({ block: b, hatch: b.pods[site.workload] as PodHatchesConfig | undefined }));
    const volumes = new Set([...generatedVolumes, ...podHatches.flatMap(({ hatch }) => (hatch?.extraVolumes ?? []).map((v) => v.name))]);
    for (const { block, hatch } of podHatches) {
      if (!hatch) continue;
      const at = [site.workload];
      (hatch.extraVolumes ?? []).forEach((v, i) => {
        if (generatedVolumes.has(v.name)) report(block, [...at, "extraVolumes", i, "name"], `collides with the generated volume "${v.name}" of ${object}`);
        else if (seen.volumes.has(v.name)) report(block, [...at, "extraVolumes", i, "name"], `a second volume "${v.name}" (first at ${seen.volumes.get(v.name)})`);
        else seen.volumes.set(v.name, joinPath([...block.at, ...at, "extraVolumes", i]));
      });
      (["extraContainers", "extraInitContainers"] as const).forEach((field) =>
        (hatch[field] ?? []).forEach((c, i) => {
          if (generatedContainers.has(c.name)) report(block, [...at, field, i, "name"], `collides with the generated container "${c.name}" of ${object}`);
          else if (seen.containers.has(c.name)) report(block, [...at, field, i, "name"], `a second container "${c.name}" (first at ${seen.containers.get(c.name)})`);
          else seen.containers.set(c.name, joinPath([...block.at, ...at, field, i]));
          (c.volumeMounts ?? []).forEach((m, j) => {
            if (!volumes.has(m.name)) report(block, [...at, field, i, "volumeMounts", j, "name"], `names no volume of ${object}`);
          });
        }),
      );
      for (const [key, generated] of [["podLabels", template.metadata?.labels], ["podAnnotations", template.metadata?.annotations]] as const) {
        for (const name of Object.keys(hatch[key] ?? {})) {
          if ((generated && name in generated) || name === CLUSTER_REFERENCES_ANNOTATION) report(block, [...at, key, name], `is set by the generator on ${object} and cannot be changed`);
        }
      }
    }
    // The container fields, on the container each hatch names (git-sync takes dagSync's and gitSync's).
    const byContainer = new Map<string, Workload[]>([[site.container, [site.workload]]]);
    for (const [container, workload] of Object.entries(site.containers ?? {})) byContainer.set(container, [...(byContainer.get(container) ?? []), workload!]);
    for (const [container, workloads] of byContainer) {
      const generated = containerOf(template, container);
      if (!generated) continue;
      const envNames = new Map((generated.env ?? []).map((e) => [e.name, "the generator"]));
      const mountPaths = new Map((generated.volumeMounts ?? []).map((m) => [m.mountPath, "the generator"]));
      for (const block of blocks) {
        for (const workload of workloads) {
          const hatch = block.pods[workload] as ContainerHatchesConfig | undefined;
          if (!hatch) continue;
          (hatch.extraEnv ?? []).forEach((e, i) => {
            const where = [workload, "extraEnv", i, "name"];
            if (envNames.has(e.name)) report(block, where, `${e.name} is already set in container ${container} of ${object} (by ${envNames.get(e.name)})`);
            else envNames.set(e.name, joinPath([...block.at, workload, "extraEnv", i]));
          });
          (hatch.extraVolumeMounts ?? []).forEach((m, i) => {
            const where = [workload, "extraVolumeMounts", i];
            if (!volumes.has(m.name)) report(block, [...where, "name"], `names no volume of ${object}: add it to extraVolumes of ${site.workload}`);
            if (mountPaths.has(m.mountPath)) report(block, [...where, "mountPath"], `${m.mountPath} is already mounted in container ${container} of ${object} (by ${mountPaths.get(m.mountPath)})`);
            else mountPaths.set(m.mountPath, joinPath([...block.at, ...where]));
          });
        }
      }
    }
  }
  return issues;
}

function containerOf(template: PodTemplate, name: string): IContainer | undefined {
  const spec = (template.spec ?? {}) as Spec;
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].find((c) => c.name === name);
}

function dedupe(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const byKey = new Map(issues.map((i) => [`${i.path}\u0000${i.message}`, i]));
  return [...byKey.values()];
}
