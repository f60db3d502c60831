/** The validate cache repeats verdicts of unchanged builds and nothing else: it can never turn a failure into a pass. */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type BigIntStats } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { inputFiles, ValidateCache } from "../generator/validate/cache.js";
import { validateRepository, type Problem } from "../generator/validate/validate.js";
import { FileHashIndex, RACY_WINDOW_MS, sha256, statSignature, type StatFile } from "../generator/validate/file-hashes.js";
import { main, type Io } from "../generator/cli.js";
import { runCli, tempProject, editYaml } from "./helpers.js";

const temps: string[] = [];
afterAll(() => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "airflow-gitops-cache-"));
  temps.push(dir);
  return dir;
}

function treeCopy(): string {
  const dir = tempProject({ withTree: true });
  temps.push(dir);
  return dir;
}

const edit = editYaml;

function entries(cacheDir: string): string[] {
  return (readdirSync(cacheDir, { recursive: true }) as string[]).filter((p) => p.endsWith(".json")).map((p) => join(cacheDir, p));
}

const TARGETS = ["overlays/dev", "argocd"];

describe("validate cache", () => {
  it("reuses unchanged builds, rebuilds what a change reaches, and keeps failures failures", async () => {
    const dir = treeCopy();
    const cache = temp();
    const validate = (...extra: string[]) => runCli(["validate", "--dir", dir, "--cache-dir", cache, "--json", ...extra, ...TARGETS]);
    const statsd = join(dir, "base", "statsd-deployment.yaml");
    const anHourAgo = new Date(Math.floor(Date.now() / 1000 - 3600) * 1000);
    utimesSync(statsd, anHourAgo, anHourAgo);

    const first = JSON.parse((await validate()).out);
    expect(first).toMatchObject({ failed: 0, cached: 0 });
    const second = JSON.parse((await validate()).out);
    expect(second).toMatchObject({ failed: 0, cached: 2, passed: first.passed });

    // A defect in the base reaches the overlay, not argocd/: one build, and a failure. The edit keeps
    // the file's size and modification time, as an editor's quick fix and undo can.
    const { size, mtimeNs } = statSync(statsd, { bigint: true });
    writeFileSync(statsd, readFileSync(statsd, "utf8").replace("statsd-exporter:v0.28.0", "statsd-exporter:latest "));
    utimesSync(statsd, anHourAgo, anHourAgo);
    expect(statSync(statsd, { bigint: true })).toMatchObject({ size, mtimeNs });
    const broken = await validate();
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.out)).toMatchObject({ cached: 1 });
    expect(broken.out).toContain('uses the latest tag');

    // The failure is what the cache now repeats.
    const again = await validate();
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out)).toMatchObject({ cached: 2 });

    // Entries that are damaged or claim another address are misses, never passes.
    const passing = entries(cache).map((path) => readFileSync(path, "utf8")).find((text) => text.includes('"problems":[]'))!;
    for (const path of entries(cache)) writeFileSync(path, path.includes("0") ? "{not json" : passing);
    writeFileSync(join(cache, "file-hashes.json"), "{not json");
    const forged = await validate();
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.out)).toMatchObject({ cached: 0 });
    expect(forged.out).toContain('uses the latest tag');

    // A hand-edited entry, its verdict turned into a pass, does not verify under the user's key.
    const failing = entries(cache).find((path) => readFileSync(path, "utf8").includes("latest tag"))!;
    const [seal, json] = readFileSync(failing, "utf8").split(/\n(.*)/s);
    const entry = JSON.parse(json!);
    entry.verdict.problems = [];
    writeFileSync(failing, `${seal}\n${JSON.stringify(entry)}`);
    const edited = await validate();
    expect(edited.code).toBe(1);
    expect(edited.out).toContain("uses the latest tag");

    // A key others could read is not trusted: a new one is made and every old entry is a miss.
    const key = join(cache, "seal.key");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    chmodSync(key, 0o644);
    const rekeyed = await validate();
    expect(JSON.parse(rekeyed.out)).toMatchObject({ cached: 0 });
    expect(statSync(key).mode & 0o777).toBe(0o600);

    // --no-cache checks everything again.
    const fresh = await validate("--no-cache");
    expect(fresh.code).toBe(1);
    expect(JSON.parse(fresh.out)).toMatchObject({ cached: 0 });
  });

  it("does not store a verdict when an input changed while the build ran", async () => {
    const dir = treeCopy();
    const cache = temp();
    const application = join(dir, "argocd", "apps", "dev-application.yaml");
    const passing = readFileSync(application, "utf8");
    const failing = passing.replace("spec:\n", "spec:\n  notAField: 1\n");
    writeFileSync(application, failing);
    // The file is fixed after the cache has taken the address of the failing content, before kustomize reads it.
    class FixedDuringTheRun extends ValidateCache<Problem> {
      private calls = 0;
      override async keys(root: string, targets: readonly string[]) {
        const keys = await super.keys(root, targets);
        if (this.calls++ === 0) writeFileSync(application, passing);
        return keys;
      }
    }
    const during = await validateRepository(dir, { targets: ["argocd"], cache: new FixedDuringTheRun(cache) });
    expect(during).toMatchObject({ failed: 0, cached: 0 });
    writeFileSync(application, failing);
    const after = await validateRepository(dir, { targets: ["argocd"], cache: new ValidateCache<Problem>(cache) });
    expect(after.problems.map((p) => p.path)).toContain("/spec/notAField");
  });

  it("takes every file of the strict schema directory as an input", async () => {
    const dir = treeCopy();
    const schemas = temp();
    const schema = join(schemas, "k8s", "configmap-v1.json");
    mkdirSync(join(schemas, "k8s"));
    writeFileSync(schema, '{"type":"object"}');
    const key = async () => (await new ValidateCache<Problem>(temp(), schemas).keys(dir, ["argocd"]))[0];
    const before = await key();
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(await key()).toBe(before);
    writeFileSync(schema, '{"type":"string"}');
    expect(await key()).not.toBe(before);
  });

  it("says how many verdicts came from the cache, with a progress line on a terminal", async () => {
    const dir = treeCopy();
    const cache = temp();
    const progress: string[] = [];
    const io: Io = { out: () => {}, err: () => {}, progress: (line) => progress.push(line) };
    expect(await main(["validate", "--dir", dir, "--cache-dir", cache, "argocd"], io)).toBe(0);
    expect(progress).toEqual(["validate: 0 from cache, 1 built, 0 checked of 1", "validate: 0 from cache, 1 built, 1 checked of 1", ""]);
    const second = await runCli(["validate", "--dir", dir, "--cache-dir", cache, "argocd"]);
    expect(second.out).toMatch(/^\d+ passed, 0 failed \(argocd\); 1 of 1 build\(s\) unchanged, verdict from the cache in (.*) \(--no-cache checks again\)$/);
    expect(second.out).toContain(`verdict from the cache in ${cache} (`);
  });

  it("counts every file a build reads, through the kustomizations it names", () => {
    const dir = treeCopy();
    const files = [...inputFiles(join(dir, "overlays", "prod"))!].map((f) => f.slice(dir.length + 1));
    expect(files).toContain("overlays/prod/kustomization.yaml");
    expect(files).toContain("base/kustomization.yaml");
    expect(files).toContain("base/scheduler-deployment.yaml");
    expect(files.some((f) => f.startsWith("secrets/prod/"))).toBe(true);
    expect(files.some((f) => f.startsWith("overlays/dev/"))).toBe(false);
  });

  it("does not cache a build with a remote resource", () => {
    const dir = treeCopy();
    edit(dir, "overlays/dev/kustomization.yaml", (d) => d.resources.push("https://github.com/acme/extra//deploy?ref=v1"));
    expect(inputFiles(join(dir, "overlays", "dev"))).toBeUndefined();
  });
});

/**
 * A file system whose clock has not ticked since it first reported each file: every later stat is the
 * first one, except the fields named, which are read afresh (to test each field on its own).
 */
function frozenStat(...live: (keyof BigIntStats)[]): StatFile {
  const first = new Map<string, BigIntStats>();
  return (path) => {
    const now = statSync(path, { bigint: true });
    if (!first.has(path)) first.set(path, now);
    return Object.assign(Object.create(Object.getPrototypeOf(now)), first.get(path), Object.fromEntries(live.map((field) => [field, now[field]])));
  };
}

/** An index taken long after the files were written, so no entry of it is racy. */
const later = () => Date.now() + 10 * RACY_WINDOW_MS;

describe("file hash index", () => {
  function setup(text = "replicas: 1\n") {
    const dir = temp();
    const file = join(dir, "deployment.yaml");
    writeFileSync(file, text);
    return { file, index: join(dir, "file-hashes.json") };
  }

  it("reuses the hash of a file whose stat matches and is safely old, without reading it", () => {
    const { file, index } = setup();
    const first = new FileHashIndex(index, { now: later() });
    expect(first.hash(file)).toBe(sha256("replicas: 1\n"));
    expect(first.hashed).toBe(1);
    first.save();
    const second = new FileHashIndex(index);
    expect(second.hash(file)).toBe(sha256("replicas: 1\n"));
    expect(second.hashed).toBe(0);
  });

  it("hashes again a file rewritten within the same tick: same size, same times, racy", () => {
    const { file, index } = setup();
    const stat = frozenStat();
    const first = new FileHashIndex(index, { stat });
    first.hash(file);
    first.save();
    writeFileSync(file, "replicas: 2\n");
    const { atime, mtime } = statSync(file);
    utimesSync(file, atime, mtime);
    const second = new FileHashIndex(index, { stat });
    expect(second.hash(file)).toBe(sha256("replicas: 2\n"));
    expect(second.hashed).toBe(1);
    second.save();
    // Still racy the run after (its index was written just now), so never trusted.
    writeFileSync(file, "replicas: 3\n");
    expect(new FileHashIndex(index, { stat }).hash(file)).toBe(sha256("replicas: 3\n"));
  });

  it.each([["size"], ["mtimeNs"], ["ctimeNs"], ["ino"]] as const)("hashes again a file whose %s changed", (field) => {
    const { file, index } = setup("replicas: 1\n");
    const stat = frozenStat(field);
    const first = new FileHashIndex(index, { stat, now: later() });
    first.hash(file);
    first.save();
    if (field === "size") writeFileSync(file, "replicas: 10\n");
    else if (field === "ino") {
      // Written beside and renamed over, as editors and `gen` do: a new inode, taken while the old one lived.
      writeFileSync(`${file}.new`, "replicas: 2\n");
      renameSync(`${file}.new`, file);
    } else writeFileSync(file, "replicas: 2\n");
    if (field === "mtimeNs") utimesSync(file, new Date(), new Date(Date.now() - 60_000));
    if (field === "ctimeNs") {
      const { atime, mtime } = statSync(file);
      utimesSync(file, atime, mtime); // changes the change time only
    }
    const second = new FileHashIndex(index, { stat, now: later() });
    expect(second.hash(file)).toBe(sha256(readFileSync(file)));
    expect(second.hashed).toBe(1);
  });

  it("ignores a corrupt or foreign index", () => {
    const { file, index } = setup();
    const wrong = sha256("something else");
    const signature = statSignature(statSync(file, { bigint: true }));
    for (const text of [
      "{not json",
      JSON.stringify({ format: "another tool's index", examinedAt: later(), files: { [file]: [signature, wrong] }, derived: {}, derivedBy: "" }),
      JSON.stringify({ format: "airflow-gitops file hashes 1", examinedAt: later(), files: { [file]: [signature, "not a hash"] }, derived: {}, derivedBy: "" }),
    ]) {
      writeFileSync(index, text);
      const read = new FileHashIndex(index);
      expect(read.hash(file)).toBe(sha256("replicas: 1\n"));
      expect(read.hashed).toBe(1);
    }
  });

  it("remembers a value derived from a file under the hash of the text it came from", () => {
    const { file, index } = setup();
    let derivations = 0;
    const derive = (text: string) => (derivations++, text.trim());
    const first = new FileHashIndex(index, { now: later() });
    expect(first.derived(file, derive)).toBe("replicas: 1");
    first.save();
    expect(new FileHashIndex(index).derived(file, derive)).toBe("replicas: 1");
    expect(derivations).toBe(1);
    writeFileSync(file, "replicas: 22\n");
    expect(new FileHashIndex(index).derived(file, derive)).toBe("replicas: 22");
    expect(derivations).toBe(2);
  });

  it("drops derived values when the code that derives them changed", () => {
    const { file, index } = setup();
    const first = new FileHashIndex(index, { now: later(), derivedBy: "version 1" });
    first.derived(file, () => "paths as version 1 reads them");
    first.save();
    expect(new FileHashIndex(index, { derivedBy: "version 1" }).derived(file, () => "derived again")).toBe("paths as version 1 reads them");
    expect(new FileHashIndex(index, { derivedBy: "version 2" }).derived(file, () => "derived again")).toBe("derived again");
  });
});
