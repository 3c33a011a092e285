// Compiles every WGSL file of a folder with Chromium's own compiler (Tint), through WebGPU in
// headless Chromium: a second WGSL compiler beside naga. Fails, never skips, when Chromium or
// WebGPU is missing. Usage: node web/tint-check.mjs DIR
import { createServer } from "node:http";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node tint-check.mjs DIR");
  process.exit(2);
}
const kernels = readdirSync(dir)
  .filter((name) => name.endsWith(".wgsl"))
  .sort()
  .map((name) => ({ name, source: readFileSync(join(dir, name), "utf8") }));
if (kernels.length === 0) {
  console.error(`no .wgsl files in ${dir}`);
  process.exit(1);
}

/** Kernels compiled at once. */
const IN_FLIGHT = 4;

const browser = await launch();
// WebGPU needs a secure context: an empty page on 127.0.0.1 is one.
const server = createServer((_, response) => response.end("<!doctype html><title>tint</title>"));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const results = await page.evaluate(async ({ kernels, IN_FLIGHT }) => {
    if (!navigator.gpu) return { error: "navigator.gpu is missing: no WebGPU" };
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { error: "requestAdapter() returned null: no WebGPU adapter" };
    const subgroups = adapter.features.has("subgroups");
    const device = await adapter.requestDevice({
      requiredFeatures: subgroups ? ["subgroups"] : [],
    });
    const info = adapter.info ?? {};
    // A few kernels in flight at once, so the page and the GPU process do not wait on each other.
    const compile = async ({ name, source }) => {
      if (name.includes("_subgroup_") && !subgroups) {
        return { name, skipped: "the adapter has no subgroups" };
      }
      const module = device.createShaderModule({ code: source });
      const messages = (await module.getCompilationInfo()).messages
        .filter((m) => m.type === "error")
        .map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
      try {
        await device.createComputePipelineAsync({
          layout: "auto",
          compute: { module, entryPoint: "main" },
        });
      } catch (error) {
        messages.push(String(error));
      }
      return { name, messages };
    };
    // One scope around them all: a validation error no kernel's messages name still fails.
    device.pushErrorScope("validation");
    const out = [];
    let next = 0;
    const worker = async () => {
      while (next < kernels.length) {
        const index = next++;
        out[index] = await compile(kernels[index]);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const scoped = await device.popErrorScope();
    return {
      adapter: `${info.vendor ?? ""} ${info.architecture ?? ""} ${info.description ?? ""}`.trim(),
      subgroups,
      out,
      unattributed: scoped?.message,
    };
  }, { kernels, IN_FLIGHT });
  if (results.error) {
    console.error(`tint check: ${results.error}`);
    process.exitCode = 1;
  } else {
    console.log(`tint check on "${results.adapter}" (subgroups: ${results.subgroups})`);
    for (const result of results.out) {
      const verdict = result.skipped ? `not compiled: ${result.skipped}` : result.messages.length ? "REJECTED" : "ok";
      console.log(`  ${result.name.padEnd(40)} ${verdict}`);
      for (const message of result.messages ?? []) console.log(`    ${message}`);
      if (result.messages?.length) process.exitCode = 1;
    }
    // The scope's first error, when no kernel's own messages already failed the check.
    if (results.unattributed && !process.exitCode) {
      console.log(`  a validation error no kernel's messages name: ${results.unattributed}`);
      process.exitCode = 1;
    }
    // The subgroup kernels must have been compiled somewhere: a browser without subgroups here
    // would leave them unchecked.
    if (!results.subgroups) {
      console.error("tint check: this browser offers no subgroups, so the subgroup kernels went unchecked");
      process.exitCode = 1;
    }
  }
} finally {
  await browser.close();
  server.close();
}
