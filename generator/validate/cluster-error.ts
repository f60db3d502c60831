/** The cluster cannot be used for a server-side check (no kubeconfig, unknown context, unreachable, refused credentials): the user's to fix. */
export class ClusterError extends Error {
  override name = "ClusterError";
}
