/** Setup file of both vitest configs: each test file's temporary directories go when the file is done. */
import { afterAll } from "vitest";
import { removeTempDirs } from "./temp-dirs.js";

afterAll(removeTempDirs);
