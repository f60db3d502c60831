/**
 * The built-in DAG builder's Python package (builder/dag_builder), read from this installation of
 * the generator so the core can ship it in a ConfigMap. Found by walking up from this module, which
 * works from the sources and from the bundle in dist/.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BuilderSource } from "./core/index.js";

const PACKAGE_DIR = join("builder", "dag_builder");

export function readBuilderSource(from: string = import.meta.dirname): BuilderSource {
  const dir = packageDir(from);
  const files = readdirSync(dir).filter((name) => name.endsWith(".py")).sort();
  return Object.fromEntries(files.map((name) => [name, readFileSync(join(dir, name), "utf8")]));
}

function packageDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, PACKAGE_DIR);
    if (existsSync(join(candidate, "__main__.py"))) return candidate;
    if (dirname(dir) === dir) throw new Error(`the built-in DAG builder (${PACKAGE_DIR}) was not found above ${from}`);
  }
}
