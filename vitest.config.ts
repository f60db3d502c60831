import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { SummaryLine } from "./test/summary-reporter.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The real-system suite needs Go, Python and a control plane: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: ["test/e2e/**", "**/node_modules/**"],
    reporters: ["default", new SummaryLine()],
    setupFiles: ["test/temp-dirs-setup.ts"],
    // Test files share a worker's module cache: the generator's modules and the model validators load
    // once per worker, not once per file. No test relies on fresh module state.
    isolate: false,
    // At least two workers, even on two cores (vitest's default leaves one core to itself): a worker
    // spends much of its time waiting for the kustomize and CLI processes it starts.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
