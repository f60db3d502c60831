import type { KubeObject } from "../manifest.js";

/** One object of a layer, with the component its file is named after (`<component>-<kind>.yaml`). */
export interface Manifest {
  component: string;
  object: KubeObject;
}

/** Values computed once for the whole base and stamped onto pods. */
export interface BaseContext {
  /** checksum/* annotations that roll an Airflow pod when what it reads changes. */
  airflowPodAnnotations: Record<string, string>;
  /** checksum/* annotations of the dag-sync pod (its git credentials). */
  dagSyncPodAnnotations: Record<string, string>;
}
