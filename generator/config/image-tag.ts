/** An image tag, possibly pinned to a digest (`3.3.2@sha256:…`): its version part, as labels and version checks read it. */
export function tagVersion(tag: string): string {
  return tag.split("@")[0]!;
}

/** `[major, minor]` of a version tag such as `3.3.2` or `v3.10.0-python3.12`, if it starts with one. */
export function majorMinor(tag: string): [number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)/.exec(tagVersion(tag));
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}
