/**
 * A file-system failure (read-only directory, a file where a directory should be, a full disk) is a
 * problem of the user's machine: one line naming the path and the cause, never an internal error.
 */
import { relative } from "node:path";

const CAUSES: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a file is in the way where a directory should be",
  EEXIST: "already exists and is not a directory",
  EISDIR: "is a directory, not a file",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENOENT: "no such file or directory",
  EMFILE: "too many open files",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
};

export class FileSystemError extends Error {
  override name = "FileSystemError";
}

/** The error as a FileSystemError when it is one the user can fix, else undefined. */
export function fileSystemProblem(error: unknown, root: string): FileSystemError | undefined {
  const e = error as NodeJS.ErrnoException;
  if (!e || typeof e.code !== "string" || !(e.code in CAUSES)) return undefined;
  const path = typeof e.path === "string" ? shown(e.path, root) : root;
  return new FileSystemError(`${path}: ${CAUSES[e.code]} (${e.code})`);
}

/** The path as the user would type it (relative to the working directory when inside it), without a staging suffix. */
function shown(path: string, root: string): string {
  const rel = relative(process.cwd(), path);
  const readable = rel && !rel.startsWith("..") ? rel : path;
  return (readable || root).replace(/\.[0-9a-f]{8}\.tmp-gen$/, "");
}
