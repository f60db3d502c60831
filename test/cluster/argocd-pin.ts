/**
 * The Argo CD release the suite builds and runs (`argocd.ts`) and whose CRDs it installs (`crds.ts`).
 *
 * Argo CD 3.6 asks for Go 1.27 in its go.mod, newer than the Go 1.26 the rest of the suite builds with, so
 * the go command fetches that toolchain (a module from the Go proxy) for Argo CD alone: every go command
 * that reads Argo CD's module runs with `GOTOOLCHAIN` set to it, and nothing else does.
 */
export const ARGOCD = {
  module: "github.com/argoproj/argo-cd/v3",
  version: "v3.6.1",
  toolchain: "go1.27.3",
  /**
   * Argo CD's go.mod replaces its gitops-engine with a directory of its repository that the module zip does
   * not contain; the same release of gitops-engine is published as a module of its own.
   */
  gitopsEngine: "github.com/argoproj/argo-cd/gitops-engine/v3",
} as const;
