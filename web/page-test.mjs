// The browser page, end to end: serves web/dist with the real binary (`gpusum web --port 0`),
// opens it in headless Chromium with WebGPU, and checks the automation contract: a battery of
// ranges through ?start=&end= against the closed form (in BigInt), an error for a bad bound, and
// ?selftest reporting ok; then, in a browser without WebGPU, that the page says so and still sums
// on the CPU. Fails, never skips, when Chromium, WebGPU or the page is missing.
// Usage: node web/page-test.mjs PATH/TO/gpusum [SCREENSHOT.png]
import { spawn } from "node:child_process";
import { launch } from "./chromium.mjs";

const [binary, screenshot] = process.argv.slice(2);
if (!binary) {
  console.error("usage: node page-test.mjs PATH/TO/gpusum [SCREENSHOT.png]");
  process.exit(2);
}

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const closedForm = (a, b) => (b < a ? 0n : ((b - a + 1n) * (a + b)) / 2n);
const ranges = [
  [1n, 20n],
  [1n, 0n],
  [MIN, MIN],
  [MAX, MAX],
  [MIN, MIN + 999n],
  [MAX - 999n, MAX],
  [-1000n, 999n],
  [2n ** 32n - 700n, 2n ** 32n + 700n],
  [-(2n ** 32n) - 5000n, -(2n ** 32n) + 3n],
  [2n ** 53n - 600n, 2n ** 53n + 600n],
  [-(2n ** 53n) - 1n, -(2n ** 53n) + 1n],
  // Many dispatches and several submissions on any adapter's shape.
  [-40_000_000n, 50_000_017n],
  [MAX - 30_000_000n, MAX],
];

// The server prints its URL on its first line.
const server = spawn(binary, ["web", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  let text = "";
  server.stdout.on("data", (chunk) => {
    text += chunk;
    if (text.includes("\n")) resolve(text.split("\n")[0].trim());
  });
  server.on("exit", (code) => reject(new Error(`gpusum web exited with ${code} before serving`)));
});

const failures = [];

/// Loads the page with `query` and waits for its status to settle; returns what it shows.
async function open(page, query) {
  await page.goto(`${url}?${query}`);
  await page.waitForFunction(() => {
    const status = document.getElementById("status").textContent;
    return status === "done" || status.startsWith("error");
  }, null, { timeout: 120_000 });
  return page.evaluate(() => ({
    status: document.getElementById("status").textContent,
    sum: document.getElementById("sum").textContent,
    adapter: document.getElementById("adapter").textContent,
    selftest: document.getElementById("selftest").textContent,
  }));
}

const browser = await launch();
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  const load = (query) => open(page, query);

  const first = await load("start=1&end=20");
  console.log(`page test on: ${first.adapter}`);
  if (first.adapter.startsWith("No WebGPU")) failures.push(`no WebGPU in this browser: ${first.adapter}`);
  for (const [a, b] of ranges) {
    const got = await load(`start=${a}&end=${b}`);
    const expected = closedForm(a, b).toString();
    const verdict = got.status === "done" && got.sum === expected ? "ok" : "WRONG";
    console.log(`  [${a}, ${b}]`.padEnd(52) + ` ${verdict}`);
    if (verdict !== "ok") failures.push(`[${a}, ${b}]: status ${got.status}, sum ${got.sum}, expected ${expected}`);
  }
  const bad = await load("start=x&end=1");
  if (!bad.status.startsWith("error: ")) failures.push(`a bad bound gave status ${bad.status}`);

  const selftest = await load("selftest");
  const report = JSON.parse(selftest.selftest || "{}");
  const cases = report.cases ?? [];
  console.log(`  selftest: ok=${report.ok}, ${cases.filter((c) => c.ok).length}/${cases.length} cases`);
  if (selftest.status !== "done" || report.ok !== true || cases.length < 20 || cases.some((c) => c.gpu === null)) {
    failures.push(`selftest: status ${selftest.status}, ok ${report.ok}, ${cases.length} cases`);
  }
  for (const c of cases.filter((c) => !c.ok)) failures.push(`selftest case ${c.name}: ${JSON.stringify(c)}`);

  if (screenshot) {
    await load("start=1&end=1000000000&selftest&bench");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`  screenshot: ${screenshot}`);
  }
} finally {
  await browser.close();
}

const plain = await launch({ webgpu: false });
try {
  const page = plain.pages()[0] ?? (await plain.newPage());
  const got = await open(page, `start=${MIN}&end=${MIN + 99_999n}`);
  const expected = closedForm(MIN, MIN + 99_999n).toString();
  console.log(`  without WebGPU: "${got.adapter}" -> ${got.status}`);
  if (!got.adapter.startsWith("No WebGPU") || got.status !== "done" || got.sum !== expected) {
    failures.push(`without WebGPU: adapter "${got.adapter}", status ${got.status}, sum ${got.sum}, expected ${expected}`);
  }
} finally {
  await plain.close();
  server.kill();
}
if (failures.length) {
  for (const failure of failures) console.error(`page test: ${failure}`);
  process.exitCode = 1;
} else {
  console.log("page test: passed");
}
