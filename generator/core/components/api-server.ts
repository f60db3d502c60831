import { Ingress, Service } from "../kinds.js";
import type { IHTTPGetAction } from "kubernetes-models/v1/HTTPGetAction";
import type { Target } from "../target.js";
import { labels, selectorLabels } from "../labels.js";
import { names } from "../names.js";
import { API_SERVER_PORT } from "../paths.js";
import { WEBSERVER_CONFIG_PATH } from "../../shared/airflow-settings.js";
import { toKubeObject } from "../manifest.js";
import { airflowDeployment } from "../workload.js";
import { vpcCidrs } from "./network-policies.js";
import { servesHttps } from "../airflow-cfg.js";
import type { BaseContext, Manifest } from "./types.js";
import { ssoClientSecret } from "../secret-refs.js";
import { VOLUME } from "../pod.js";
import { WEBSERVER_CONFIG_KEY } from "../webserver-config.js";

const HEALTH_PATH = "/api/v2/monitor/health";
const PORT_NAME = "api-server";

/** UI, REST API and the Execution API task pods call: Deployment, Service and ALB Ingress. */
export function apiServer(config: Target, ctx: BaseContext): Manifest[] {
  const n = names(config);
  const httpGet: IHTTPGetAction = { path: HEALTH_PATH, port: PORT_NAME, scheme: "HTTP" };
  const sso = config.airflow.auth.sso ? ssoClientSecret(config) : undefined;
  const deployment = airflowDeployment(config, {
    component: "api-server",
    // Behind the ALB: X-Forwarded-Proto/For make redirects and generated URLs https, trusted only from the VPC.
    command: "api-server --proxy-headers",
    extraEnv: [
      { name: "FORWARDED_ALLOW_IPS", value: vpcCidrs(config).join(",") },
      ...(sso ? [{ name: sso.env, valueFrom: { secretKeyRef: { name: sso.secretName, key: sso.key } } }] : []),
    ],
    ...(sso
      ? {
          extraSecrets: [sso.secretName],
          // [fab] config_file's default path: single sign-on's settings.
          extraMounts: [{ name: VOLUME.config, mountPath: WEBSERVER_CONFIG_PATH, subPath: WEBSERVER_CONFIG_KEY, readOnly: true }],
        }
      : {}),
    replicas: config.components.apiServer.replicas,
    resources: config.components.apiServer.resources,
    ports: [{ name: PORT_NAME, containerPort: API_SERVER_PORT, protocol: "TCP" }],
    probes: {
      startup: { httpGet, periodSeconds: 10, timeoutSeconds: 20, failureThreshold: 12 },
      liveness: { httpGet, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 5 },
      readiness: { httpGet, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    terminationGracePeriodSeconds: 30,
    safeToEvict: true,
    podAnnotations: ctx.airflowPodAnnotations,
    mountsDags: false,
  });

  const service = new Service({
    metadata: { name: n.apiServerService, namespace: n.namespace, labels: labels(config, "api-server") },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(config, "api-server"),
      ports: [{ name: PORT_NAME, port: API_SERVER_PORT, targetPort: PORT_NAME, protocol: "TCP" }],
    },
  });

  const ingress = new Ingress({
    metadata: {
      name: n.ingress,
      namespace: n.namespace,
      labels: labels(config, "api-server"),
      annotations: {
        "alb.ingress.kubernetes.io/scheme": config.ingress.scheme,
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-path": HEALTH_PATH,
        "alb.ingress.kubernetes.io/inbound-cidrs": config.ingress.allowedCidrs.join(","),
        ...(servesHttps(config)
          ? {
              ...(config.ingress.certificateArn ? { "alb.ingress.kubernetes.io/certificate-arn": config.ingress.certificateArn } : {}),
              "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
              "alb.ingress.kubernetes.io/ssl-redirect": "443",
              "alb.ingress.kubernetes.io/ssl-policy": config.ingress.sslPolicy,
            }
          : {}),
      },
    },
    spec: {
      ingressClassName: config.ingress.className,
      rules: [
        {
          ...(config.ingress.host ? { host: config.ingress.host } : {}),
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: n.apiServerService, port: { name: PORT_NAME } } },
              },
            ],
          },
        },
      ],
    },
  });

  return [
    { component: "api-server", object: toKubeObject(deployment) },
    { component: "api-server", object: toKubeObject(service) },
    { component: "api-server", object: toKubeObject(ingress) },
  ];
}
