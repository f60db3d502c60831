/** Where the environments' Applications live: the config's choice, else `<argocd.namespace>-<name>`. */
export function applicationsNamespace(config: { name: string; argocd: { namespace: string; applicationsNamespace?: string | undefined } }): string {
  return config.argocd.applicationsNamespace ?? `${config.argocd.namespace}-${config.name}`;
}
