// The page's file path at scale: a 256 MiB int32 file through the picker in headless Chromium
// (SwiftShader), with the tab's memory watched while it sums, beside the rate the same adapter
// reaches on data already on the device. A measurement, not a test: it prints figures.
//
// Memory, of the tab's renderer (of Chromium's renderers, the one that spent the most CPU time
// while the file summed): its peak resident set (VmHWM in /proc, reset before the file is given),
// and its own memory, the anonymous and shared pages without the file pages of Chromium's code
// that every process maps (some 100 MiB of any renderer's resident set): what Chromium's task
// manager calls a tab's memory footprint. That peak is bounded from above without sampling (the
// resident peak less the file pages before, which a sum does not drop) and sampled with the JS
// heap, from the DevTools protocol's Performance.getMetrics, every 50 ms. Linux only. Also the
// CPU time each kind of Chromium process (browser, renderer, GPU) spent while the file was
// summed: on a machine of few cores it says what bounds the file's rate.
// Usage: node web/file-memory.mjs PATH/TO/gpusum [MiB]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

const [binary, mib = "256"] = process.argv.slice(2);
const count = (Number(mib) << 20) / 4;

function renderers() {
  return readdirSync("/proc").filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("--type=renderer");
    } catch {
      return false;
    }
  });
}

/** CPU milliseconds so far of process `pid`. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

const kib = (pid, key) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "latin1").split("\n").find((l) => l.startsWith(key));
    return Number(line.split(/\s+/)[1]);
  } catch {
    return 0;
  }
};

/** CPU milliseconds so far of Chromium's processes, by kind (`--type`, the browser's own none). */
function cpuMillis() {
  const byKind = {};
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, "latin1");
      if (!command.includes("chromium")) continue;
      const kind = command.match(/--type=([a-z-]+)/)?.[1] ?? "browser";
      byKind[kind] = (byKind[kind] ?? 0) + cpuOf(pid);
    } catch {
      // A process that ended between the listing and the read.
    }
  }
  return byKind;
}

const scratch = mkdtempSync(join(tmpdir(), "gpusum-memory-"));
const path = join(scratch, "i32.npy");
const header = "{'descr': '<i4', 'fortran_order': False, 'shape': (" + count + ",), }";
const padded = header + " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
const head = Buffer.alloc(10);
head.set([0x93, ...Buffer.from("NUMPY"), 1, 0, padded.length & 0xff, padded.length >> 8]);
const data = new Int32Array(count);
for (let i = 0; i < count; i++) data[i] = Math.imul(i, 40503);
writeFileSync(path, Buffer.concat([head, Buffer.from(padded), Buffer.from(data.buffer)]));
const expected = execFileSync(binary, ["file", "--backend", "cpu", path]).toString().trim();

const server = spawn(binary, ["web", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve) => {
  let text = "";
  server.stdout.on("data", (chunk) => {
    text += chunk;
    if (text.includes("\n")) resolve(text.split("\n")[0].trim());
  });
});
const browser = await launch();
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(`${url}?start=1&end=1`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "done");
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const heap = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    return metrics.find((m) => m.name === "JSHeapUsedSize").value;
  };
  const pids = renderers();
  for (const pid of pids) {
    try { writeFileSync(`/proc/${pid}/clear_refs`, "5"); } catch { /* not ours to reset */ }
  }
  const own = (pid) => kib(pid, "RssAnon") + kib(pid, "RssShmem");
  const before = new Map(pids.map((pid) => [pid, {
    resident: kib(pid, "VmRSS"), file: kib(pid, "RssFile"), own: own(pid), cpu: cpuOf(pid),
  }]));
  const ownPeaks = new Map(pids.map((pid) => [pid, own(pid)]));
  let heapPeak = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      heapPeak = Math.max(heapPeak, await heap());
      for (const pid of pids) ownPeaks.set(pid, Math.max(ownPeaks.get(pid), own(pid)));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const cpuBefore = cpuMillis();
  await page.setInputFiles("#file", path);
  await page.waitForFunction(() => {
    const status = document.getElementById("file-status").textContent;
    return status === "done" || status.startsWith("error");
  }, null, { timeout: 600_000 });
  polling = false;
  const cpuAfter = cpuMillis();
  const cpu = Object.entries(cpuAfter)
    .map(([kind, ms]) => [kind, ms - (cpuBefore[kind] ?? 0)])
    .filter(([, ms]) => ms > 0)
    .map(([kind, ms]) => `${kind} ${(ms / 1000).toFixed(2)} s`)
    .join(", ");
  await poll;
  const tab = pids.reduce((a, b) => (cpuOf(b) - before.get(b).cpu > cpuOf(a) - before.get(a).cpu ? b : a));
  const was = before.get(tab);
  const peak = kib(tab, "VmHWM");
  const inMiB = (k) => (k / 1024).toFixed(0);
  const shown = await page.evaluate(() => ({
    status: document.getElementById("file-status").textContent,
    sum: document.getElementById("file-sum").textContent,
    detail: document.getElementById("file-detail").textContent,
  }));
  // Then the yardstick, in the same tab (its upload grows the tab's memory, so it comes last):
  // the page's own module instance (a module is loaded once), its GPU open already. At most 2^26
  // values (256 MiB): a larger file's whole upload would not fit the device's buffers, and the
  // rate no longer grows with the length there.
  const device = JSON.parse(await page.evaluate(
    async (n) => (await import("./gpusum_web.js")).device_rate(n, 3), Math.min(count, 2 ** 26)));
  const gpuSeconds = await page.evaluate(() => Number(document.getElementById("file-sum").dataset.gpuSeconds));
  const fileRate = count / gpuSeconds;
  console.log(`file: ${mib} MiB of int32, ${shown.status}, sum ${shown.sum === expected ? "= the CLI's" : `${shown.sum} != the CLI's ${expected}`}`);
  console.log(`  ${shown.detail}`);
  console.log(`  CPU time while it summed (both passes): ${cpu}`);
  console.log(`  the tab's renderer resident: ${inMiB(was.resident)} MiB before, peak ${inMiB(peak)} MiB while summing (+${inMiB(peak - was.resident)} MiB), ${inMiB(was.file)} MiB of it Chromium's file pages; JS heap peak ${(heapPeak / 2 ** 20).toFixed(1)} MiB`);
  console.log(`  its own memory (anonymous and shared): ${inMiB(was.own)} MiB before, peak at most ${inMiB(peak - was.file)} MiB (${inMiB(ownPeaks.get(tab))} sampled)`);
  console.log(`  GPU from the file: ${fileRate.toExponential(2)} values/s; on the device already: ${device.values_per_second.toExponential(2)} values/s; ${(fileRate / device.values_per_second).toFixed(2)} of it`);
} finally {
  await browser.close();
  server.kill();
  rmSync(scratch, { recursive: true });
}
