import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AWS_LOCK_FILE } from "./moto.js";

const normal = (name: string) => name.toLowerCase().replace(/[._]+/g, "-");
const pins = (text: string) => new Map([...text.matchAll(/^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)/gm)].map((m) => [normal(m[1]!), m[2]!]));

describe("Python lock of the AWS emulator (test/aws/requirements.lock)", () => {
  const lock = readFileSync(AWS_LOCK_FILE, "utf8");
  const requested = pins(readFileSync(join(import.meta.dirname, "requirements.in"), "utf8"));

  it("locks moto and the AWS CLI at the versions requirements.in pins (stale lock otherwise: run test/aws/update-lock.sh)", () => {
    expect([...requested.keys()].sort()).toEqual(["awscli", "moto"]);
    for (const [name, version] of requested) expect(pins(lock).get(name), name).toBe(version);
  });

  it("every entry has hashes", () => {
    const entries = lock.split(/\n(?=[A-Za-z0-9])/).filter((e) => /^[A-Za-z0-9]/.test(e));
    expect(entries.length).toBe(pins(lock).size);
    for (const entry of entries) expect(entry, `no hash for ${entry.split(" ")[0]}`).toMatch(/--hash=sha256:[0-9a-f]{64}/);
  });
});
