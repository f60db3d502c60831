/** The airflow ConfigMap: airflow.cfg for every Airflow process, the task pod template, webserver_config.py with single sign-on. */
import { withKubeletText } from "../kubelet-text.js";
import { ConfigMap } from "../kinds.js";
import type { Target } from "../target.js";
import { airflowCfgSections, renderAirflowCfg } from "../airflow-cfg.js";
import { yamlText } from "../yaml-text.js";
import { labels } from "../labels.js";
import { toKubeObject } from "../manifest.js";
import { names } from "../names.js";
import { POD_TEMPLATE_KEY } from "../paths.js";
import type { Manifest } from "./types.js";
import { workerPodTemplate } from "./worker.js";
import { WORKER_SITE, hatchedTemplate } from "../pod-hatches.js";
import { WEBSERVER_CONFIG_KEY, webserverConfig } from "../webserver-config.js";

export function airflowConfigMap(config: Target): Manifest {
  const n = names(config);
  const sso = webserverConfig(config);
  const configMap = new ConfigMap({
    metadata: { name: n.airflowConfigMap, namespace: n.namespace, labels: labels(config, "airflow") },
    data: {
      "airflow.cfg": renderAirflowCfg(airflowCfgSections(config)),
      [POD_TEMPLATE_KEY]: yamlText(hatchedTemplate(withKubeletText(workerPodTemplate(config)), config.pods, WORKER_SITE)),
      ...(sso ? { [WEBSERVER_CONFIG_KEY]: sso } : {}),
    },
  });
  return { component: "airflow", object: toKubeObject(configMap) };
}
