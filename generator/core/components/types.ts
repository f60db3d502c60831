import type { KubeObject } from "../manifest.js";

/** One object of a layer, with the component its file is named after (`<component>-<kind>.yaml`). */
export interface Manifest {
  component: string;
  object: KubeObject;
}

/** Values computed once for the whole base and stamped onto pods. */
export interface BaseContext {
  /** checksum/* annotations that roll a pod when what it reads changes. */
  airflowPodAnnotations: Record<string, string>;
}
