import { defineConfig } from "vitest/config";
import { SummaryLine } from "./test/summary-reporter.js";

/** `npm run test:e2e`: the real-system suite (a local control plane, real Airflow). Files run one at a time here; `test/e2e/run.ts` runs two at a time. */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    reporters: ["default", new SummaryLine()],
    setupFiles: ["test/temp-dirs-setup.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
  },
});
