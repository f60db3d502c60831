/**
 * The Prometheus statsd exporter, built from its module at the release of the generated Deployment's image,
 * run on 127.0.0.1 with the generated mappings: real Airflow's statsd lines in, the Prometheus metrics the
 * alerts read out.
 */
import { join } from "node:path";
import { ensureSourceBuild } from "../cluster/module-build.js";
import { freePort, isRunning, probe, startComponent, stopComponent, waitReady, type Component } from "../cluster/processes.js";
import { ConfigSchema } from "../../generator/config/schema.js";
import { statsdExporterBuild } from "./pins.js";

/** The image a config that sets none runs (`components.statsd.image`). */
export const DEFAULT_STATSD_IMAGE: string = ConfigSchema.properties.components.properties.statsd.properties.image.default;

export async function ensureStatsdExporter(log: (line: string) => void = () => {}, image = DEFAULT_STATSD_IMAGE): Promise<string> {
  return join(await ensureSourceBuild(statsdExporterBuild(image), log), "statsd_exporter");
}

export class StatsdExporter {
  private constructor(
    readonly component: Component,
    readonly webPort: number,
  ) {}

  /** Listens for statsd lines on UDP `udpPort` (TCP off) and serves /metrics on a port of its own. */
  static async start(options: { image: string; mappingFile: string; udpPort: number; logsDir: string; log?: (line: string) => void }): Promise<StatsdExporter> {
    const binary = await ensureStatsdExporter(options.log, options.image);
    const webPort = await freePort();
    const component = startComponent(
      "statsd-exporter",
      binary,
      [
        `--statsd.mapping-config=${options.mappingFile}`,
        `--statsd.listen-udp=127.0.0.1:${options.udpPort}`,
        "--statsd.listen-tcp=",
        `--web.listen-address=127.0.0.1:${webPort}`,
      ],
      options.logsDir,
      { PATH: process.env.PATH },
    );
    const exporter = new StatsdExporter(component, webPort);
    try {
      await waitReady(component, "/metrics", async () => (await probe(`http://127.0.0.1:${webPort}/metrics`))?.status === 200, 30_000);
    } catch (error) {
      await exporter.stop();
      throw error;
    }
    return exporter;
  }

  async metrics(): Promise<string> {
    if (!isRunning(this.component)) throw new Error(`the statsd exporter is not running; its log: ${this.component.log}`);
    return (await fetch(`http://127.0.0.1:${this.webPort}/metrics`)).text();
  }

  async stop(): Promise<void> {
    await stopComponent(this.component);
  }
}
