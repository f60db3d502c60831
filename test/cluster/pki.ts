/** The certificates and keys of a throwaway control plane, made with the openssl command-line tool. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  /**
   * The front proxy: a CA of its own and the API server's client certificate under it, with which the
   * aggregator calls an extension API server (KEDA's metrics server) on behalf of the original user.
   */
  frontProxy: { caCert: string; clientCert: string; clientKey: string };
  /** Client certificate and key per user: admin (system:masters), controller-manager, scheduler. */
  clients: Record<ClientName, { cert: string; key: string }>;
}

export type ClientName = "admin" | "kube-controller-manager" | "kube-scheduler";

const SUBJECTS: Record<ClientName, string> = {
  admin: "/O=system:masters/CN=kubernetes-admin",
  "kube-controller-manager": "/CN=system:kube-controller-manager",
  "kube-scheduler": "/CN=system:kube-scheduler",
};

/** The front proxy's client certificate name, the one the API server's requestheader settings allow. */
export const FRONT_PROXY_CLIENT = "front-proxy-client";

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr || (error as Error).message}`);
  }
}

/** Writes a CA, the API server's serving certificate, client certificates and the service-account key pair into `dir`. */
export function generatePki(dir: string, serviceIp: string): Pki {
  const p = (name: string) => join(dir, name);
  openssl(["req", "-x509", ...EC, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2", "-subj", "/CN=airflow-gitops-test-ca"]);
  const signed = (name: string, subject: string, extensions: string[]) =>
    openssl(["req", "-x509", ...EC, "-keyout", p(`${name}.key`), "-out", p(`${name}.crt`), "-days", "2", "-subj", subject, "-CA", p("ca.crt"), "-CAkey", p("ca.key"), ...extensions]);
  const sans = ["IP:127.0.0.1", `IP:${serviceIp}`, "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"];
  signed("apiserver", "/CN=kube-apiserver", ["-addext", `subjectAltName=${sans.join(",")}`, "-addext", "extendedKeyUsage=serverAuth"]);
  for (const [name, subject] of Object.entries(SUBJECTS)) signed(name, subject, ["-addext", "extendedKeyUsage=clientAuth"]);
  openssl(["req", "-x509", ...EC, "-keyout", p("front-proxy-ca.key"), "-out", p("front-proxy-ca.crt"), "-days", "2", "-subj", "/CN=airflow-gitops-test-front-proxy-ca"]);
  openssl(["req", "-x509", ...EC, "-keyout", p("front-proxy-client.key"), "-out", p("front-proxy-client.crt"), "-days", "2", "-subj", `/CN=${FRONT_PROXY_CLIENT}`, "-CA", p("front-proxy-ca.crt"), "-CAkey", p("front-proxy-ca.key"), "-addext", "extendedKeyUsage=clientAuth"]);
  openssl(["genrsa", "-out", p("sa.key"), "2048"]);
  openssl(["rsa", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub")]);
  return {
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    serverCert: p("apiserver.crt"),
    serverKey: p("apiserver.key"),
    serviceAccountKey: p("sa.key"),
    serviceAccountPub: p("sa.pub"),
    frontProxy: { caCert: p("front-proxy-ca.crt"), clientCert: p("front-proxy-client.crt"), clientKey: p("front-proxy-client.key") },
    clients: Object.fromEntries(Object.keys(SUBJECTS).map((n) => [n, { cert: p(`${n}.crt`), key: p(`${n}.key`) }])) as Pki["clients"],
  };
}

/** One more client certificate signed by the cluster's CA (a controller that runs beside the control plane). */
export function clientCertificate(dir: string, pki: Pick<Pki, "caCert" | "caKey">, name: string, subject: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(["req", "-x509", ...EC, "-keyout", key, "-out", cert, "-days", "2", "-subj", subject, "-CA", pki.caCert, "-CAkey", pki.caKey, "-addext", "extendedKeyUsage=clientAuth"]);
  return { cert, key };
}

/** A kubeconfig file for one client certificate. */
export function kubeconfigText(server: string, pki: Pki, client: ClientName): string {
  return kubeconfigFor(server, pki.caCert, client, pki.clients[client]);
}

/** A kubeconfig file for any user's client certificate and key. */
export function kubeconfigFor(server: string, caCert: string, user: string, { cert, key }: { cert: string; key: string }): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: airflow-gitops-test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority: ${caCert}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    client-certificate: ${cert}`,
    `    client-key: ${key}`,
    "contexts:",
    "- name: airflow-gitops-test",
    "  context:",
    "    cluster: airflow-gitops-test",
    `    user: ${user}`,
    "current-context: airflow-gitops-test",
    "",
  ].join("\n");
}

/**
 * A serving certificate for 127.0.0.1 (and `dnsNames`) signed by the CA that `generatePki` wrote into `dir`, for
 * servers beside the cluster; `clientAuth` for a peer that presents it as a client too (KEDA's mTLS).
 */
export function serverCertificate(dir: string, name: string, extra: { dnsNames?: readonly string[]; clientAuth?: boolean } = {}): { cert: string; key: string; ca: string } {
  const p = (file: string) => join(dir, file);
  const sans = ["IP:127.0.0.1", "DNS:localhost", ...(extra.dnsNames ?? []).map((n) => `DNS:${n}`)].join(",");
  const usage = extra.clientAuth ? "serverAuth,clientAuth" : "serverAuth";
  openssl(["req", "-x509", ...EC, "-keyout", p(`${name}.key`), "-out", p(`${name}.crt`), "-days", "2", "-subj", `/CN=${name}`, "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-addext", `subjectAltName=${sans}`, "-addext", `extendedKeyUsage=${usage}`]);
  return { cert: p(`${name}.crt`), key: p(`${name}.key`), ca: p("ca.crt") };
}
