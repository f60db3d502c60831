/**
 * The kubelet expands `$(NAME)` in a container's command, args and env values (an env var of the container)
 * and reads `$$` as one `$`. Everything the generator writes there is literal text, config values above all
 * (a first name of `$(ADMIN_PASSWORD)` must stay a name), so every `$` is written doubled; the few references
 * the generator means are made with `envReference` and are the only `$(` the kubelet sees.
 */
// NUL cannot come from the config (control characters are refused there), so it cannot forge a reference.
const REFERENCE = /\u0000\(([A-Za-z_][A-Za-z0-9_]*)\)\u0000/g;

/** A reference to the container's env var `name`, expanded by the kubelet. */
export function envReference(name: string): string {
  return `\u0000(${name})\u0000`;
}

/** `text` as the kubelet must receive it to pass it on unchanged, with the references made by envReference. */
export function kubeletText(text: string): string {
  const escaped = text.replaceAll("$", "$$$$").replace(REFERENCE, "$$($1)");
  if (escaped.includes("\u0000")) throw new Error(`a NUL character outside an env reference: ${JSON.stringify(text)}`);
  return escaped;
}

interface ContainerText {
  command?: string[];
  args?: string[];
  env?: { value?: string }[];
}

function escapeContainer<C extends ContainerText>(container: C): C {
  return {
    ...container,
    ...(container.command ? { command: container.command.map(kubeletText) } : {}),
    ...(container.args ? { args: container.args.map(kubeletText) } : {}),
    ...(container.env ? { env: container.env.map((e) => (e.value === undefined ? e : { ...e, value: kubeletText(e.value) })) } : {}),
  };
}

/** A copy of `node` with the text of every container (and init container) in it written for the kubelet. */
export function withKubeletText<T>(node: T): T {
  if (Array.isArray(node)) return node.map(withKubeletText) as T;
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      (key === "containers" || key === "initContainers") && Array.isArray(value)
        ? value.map((c) => withKubeletText(escapeContainer(c as ContainerText)))
        : withKubeletText(value);
  }
  return out as T;
}
