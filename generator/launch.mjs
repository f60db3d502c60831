#!/usr/bin/env node
/**
 * Entry point of `npm run gen` and `npm run validate`: runs the CLI from one bundled file, which
 * starts several times faster than loading the TypeScript sources module by module. The bundle is
 * rebuilt (in a fraction of a second) whenever a source file is newer than it, so it is never stale.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import module from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const generatorDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(generatorDir);
const DIST = join(root, "dist");
export const BUNDLE = join(DIST, "airflow-gitops.mjs");

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export async function ensureBundle() {
  const sources = Math.max(newestSource(generatorDir), statSync(join(root, "package-lock.json")).mtimeMs);
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= sources) return;
  const { build } = await import("esbuild");
  // Built beside dist/ and swapped in whole, so a concurrent run never sees half a bundle.
  const staging = `${DIST}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  const validator = await precompileConfigValidator(build, staging);
  await build({
    entryPoints: { "airflow-gitops": join(generatorDir, "cli.ts") },
    inject: [validator],
    outdir: staging,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    // Commands load what only they need (validate: kustomize, schemas) as separate chunks.
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Modules chosen at run time stay outside the bundle. The precompiled config validator replaces
    // ajv's compiler; its few runtime helpers load from node_modules. re2-wasm (the Go-pattern engine of the
    // Prometheus operator's models) reads its .wasm file beside its own module.
    external: ["typescript", "esbuild", "ajv", "re2-wasm"],
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    logLevel: "error",
  });
  rmSync(DIST, { recursive: true, force: true });
  try {
    renameSync(staging, DIST);
  } catch (error) {
    // Another run swapped its identical bundle in first.
    if (!existsSync(BUNDLE)) throw error;
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Compiles the config schema to standalone validator code once, at bundle time, instead of on every
 * run (the largest part of start-up otherwise). The bundle picks it up as `precompiledConfigValidator`.
 */
async function precompileConfigValidator(build, outDir) {
  const schemaModule = await build({
    stdin: {
      contents: 'export { ConfigSchema } from "./schema.ts"; export { CONFIG_AJV_OPTIONS } from "./schema-check.ts";',
      resolveDir: join(generatorDir, "config"),
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    write: false,
    logLevel: "error",
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  });
  const source = join(outDir, "config-schema.mjs");
  mkdirSync(dirname(source), { recursive: true });
  writeFileSync(source, schemaModule.outputFiles[0].text);
  const { ConfigSchema, CONFIG_AJV_OPTIONS } = await import(pathToFileURL(source).href);
  const { Ajv } = await import("ajv");
  const { default: standaloneCode } = await import("ajv/dist/standalone/index.js");
  const ajv = new Ajv({ ...CONFIG_AJV_OPTIONS, code: { source: true, esm: true } });
  const code = standaloneCode(ajv, ajv.compile(ConfigSchema));
  const file = join(outDir, "config-validator.mjs");
  writeFileSync(file, `${code}\nexport { validate as precompiledConfigValidator };\n`);
  return file;
}

const invokedDirectly = process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
if (invokedDirectly) {
  // Deprecation warnings here come from dependencies (Node 24 deprecates the punycode module and url.parse, which
  // the Kubernetes client's fetch uses), nothing a user can act on; they would break the one-line errors.
  process.noDeprecation = true;
  // Node 22.1 and later keep the compiled bundle between runs (compiling it is much of start-up); Node 20 lacks this.
  module.enableCompileCache?.(join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "airflow-gitops", "node-compile-cache"));
  await ensureBundle();
  const { exitQuietlyOnClosedPipe, main } = await import(pathToFileURL(BUNDLE).href);
  exitQuietlyOnClosedPipe();
  process.exitCode = await main(process.argv.slice(2));
}
