/**
 * The generator owns real directories inside the repository and nothing else: a symbolic link among them
 * (an owned folder, anything below one, an owned file) would make writes and deletions land outside the
 * tree, so it is refused before anything is read or written.
 */
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join, relative, sep } from "node:path";

export class OwnedLinkError extends Error {
  override name = "OwnedLinkError";
}

/** `entries` are paths relative to root: owned directories (walked whole) and owned files. */
export function refuseLinks(root: string, entries: readonly string[]): void {
  const links: string[] = [];
  const visit = (rel: string) => {
    const abs = join(root, rel);
    const stat = lstatSync(abs, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isSymbolicLink()) return void links.push(`${rel} -> ${readlinkSync(abs)}`);
    if (!stat.isDirectory()) return;
    for (const entry of readdirSync(abs, { recursive: true, withFileTypes: true })) {
      if (entry.isSymbolicLink()) {
        const path = join(entry.parentPath, entry.name);
        links.push(`${relative(root, path).split(sep).join("/")} -> ${readlinkSync(path)}`);
      }
    }
  };
  entries.forEach(visit);
  if (links.length > 0) {
    throw new OwnedLinkError(
      `${links.length === 1 ? "a symbolic link is" : "symbolic links are"} in the generated tree, where gen writes and deletes: ${links.join(", ")}; ` +
        "gen owns only real files and directories inside the repository: replace each link with the directory or file itself",
    );
  }
}
