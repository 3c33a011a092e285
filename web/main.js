// The page: the automation contract (?start=A&end=B, ?selftest) and the interactive sections.
// The wasm side (app/src/lib.rs) returns decimal strings and JSON, so no sum passes through a
// JavaScript number.
import init, * as gpusum from "./gpusum_web.js";
import { generatedBytes, typedBytes } from "./arrays.mjs";
import { wireFileSection } from "./file.mjs";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const setStatus = (text) => { $("status").textContent = text; };
const message = (error) => (error && error.message) || String(error);

function row(table, cells, header = false) {
  const tr = table.insertRow();
  for (const [text, cls] of cells.map((c) => (Array.isArray(c) ? c : [c, ""]))) {
    const cell = document.createElement(header ? "th" : "td");
    cell.textContent = text;
    if (cls) cell.className = cls;
    tr.appendChild(cell);
  }
}

// wgpu leaves a browser adapter's name empty; the browser's own adapter info says more.
async function browserAdapterName() {
  try {
    const adapter = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
    const info = adapter?.info ?? {};
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

async function showAdapter(started) {
  if (!started.webgpu) {
    $("adapter").textContent = `No WebGPU here (${started.description}): sums run on the CPU alone.`;
    return;
  }
  const name = started.adapter.name || (await browserAdapterName()) || "unnamed adapter";
  $("adapter").textContent = `${name} (${started.adapter.backend})`;
  const a = started.adapter;
  const table = $("adapter-details");
  const yes = (flag) => (flag ? "yes" : "no");
  row(table, ["device type", a.device_type]);
  row(table, ["driver", a.driver || "–"]);
  row(table, ["64-bit integers", yes(a.int64)]);
  row(table, ["subgroups", a.subgroups ? `yes (${a.subgroup_sizes.join("..")})` : "no"]);
  row(table, ["timestamps", yes(a.timestamps)]);
  row(table, ["kernels", `${a.variants.join(", ")}; reductions ${a.reductions.join(", ")}`]);
  row(table, ["workgroup", `${a.workgroup_size} invocations`]);
  row(table, ["limits", `${a.max_workgroups_per_dimension} workgroups/dimension, ` +
    `${a.max_invocations_per_workgroup} invocations/workgroup, ` +
    `${a.max_workgroup_storage_bytes} B workgroup memory, ${a.max_storage_binding_bytes} B storage binding`]);
}

async function sumRange(start, end) {
  $("sum").textContent = "…";
  $("sum-check").textContent = "";
  const sum = await gpusum.sum(start, end);
  $("sum").textContent = sum;
  const expected = gpusum.closed_form(start, end);
  const check = $("sum-check");
  check.textContent = sum === expected ? "✓ matches the closed form" : `✗ the closed form gives ${expected}`;
  check.className = sum === expected ? "ok" : "bad";
  return sum;
}

// Sums the array's bytes on the GPU and the CPU twin; shows the GPU's sum (the CPU's without
// WebGPU), the twin's, and whether they agree.
async function sumArray(dtype, bytes) {
  for (const id of ["array-sum", "array-cpu", "array-check", "array-detail"]) $(id).textContent = "";
  $("array-sum").textContent = "…";
  const sums = JSON.parse(await gpusum.sum_array(bytes, dtype, false));
  $("array-sum").textContent = sums.gpu ?? sums.cpu;
  $("array-cpu").textContent = sums.cpu;
  const check = $("array-check");
  check.textContent = sums.agree ? "✓ the GPU and the CPU twin agree" : "✗ the GPU and the CPU twin differ";
  check.className = sums.agree ? "ok" : "bad";
  const rate = (seconds) => (seconds ? `${(Number(sums.count) / seconds).toExponential(2)} values/s` : "–");
  $("array-detail").textContent =
    `(${sums.count} ${sums.dtype} values; GPU ${rate(sums.gpu_seconds)}, CPU ${rate(sums.cpu_seconds)})`;
  return sums;
}

async function runSelftest(seed) {
  $("selftest-summary").textContent = "running…";
  const json = await gpusum.selftest(seed);
  $("selftest").textContent = json;
  const report = JSON.parse(json);
  const table = $("selftest-table");
  table.replaceChildren();
  row(table, ["case", "range", "GPU", "CPU", ""], true);
  for (const c of report.cases) {
    row(table, [c.name, `[${c.start}, ${c.end}]`, c.gpu ?? "–", c.cpu, c.ok ? ["ok", "ok"] : ["WRONG", "bad"]]);
  }
  // The array and float batteries: their failures in the table, their counts in the summary.
  for (const [battery, cases] of [["arrays", report.arrays.cases], ["floats", report.floats.cases]]) {
    for (const c of cases.filter((c) => !c.ok)) {
      row(table, [`${battery}: ${c.name}`, `${c.count} ${c.dtype}`, c.gpu ?? "–", c.cpu, ["WRONG", "bad"]]);
    }
  }
  const passed = (cases) => `${cases.filter((c) => c.ok).length}/${cases.length}`;
  $("selftest-summary").textContent =
    `${report.ok ? "passed" : "FAILED"}: ranges ${passed(report.cases)}, arrays ${passed(report.arrays.cases)}, ` +
    `floats ${passed(report.floats.cases)} on ${$("adapter").textContent} (seed ${report.seed})`;
  $("selftest-summary").className = report.ok ? "ok" : "bad";
  return report;
}

function plot(points) {
  const width = 640, height = 320, left = 70, bottom = 40, top = 10, right = 120;
  const series = [
    ["GPU", "#1f77b4", points.filter((p) => p.gpu_seconds !== null).map((p) => [Number(p.length), Number(p.length) / p.gpu_seconds])],
    ["CPU (wasm)", "#d62728", points.map((p) => [Number(p.length), Number(p.length) / p.cpu_seconds])],
  ];
  const all = series.flatMap(([, , pts]) => pts);
  const lx = all.map(([x]) => Math.log10(x)), ly = all.map(([, y]) => Math.log10(y));
  const [x0, x1] = [Math.min(...lx), Math.max(...lx)];
  const [y0, y1] = [Math.floor(Math.min(...ly)), Math.ceil(Math.max(...ly))];
  const sx = (x) => left + ((Math.log10(x) - x0) / Math.max(x1 - x0, 1e-9)) * (width - left - right);
  const sy = (y) => height - bottom - ((Math.log10(y) - y0) / Math.max(y1 - y0, 1e-9)) * (height - bottom - top);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-size="12">`;
  svg += `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#999"/>`;
  for (let e = y0; e <= y1; e++) {
    svg += `<text x="${left - 6}" y="${sy(10 ** e) + 4}" text-anchor="end">1e${e}</text>`;
  }
  for (const [x] of series[1][2]) {
    svg += `<text x="${sx(x)}" y="${height - bottom + 16}" text-anchor="middle">2^${Math.round(Math.log2(x))}</text>`;
  }
  svg += `<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">N (sum of 1..=N)</text>`;
  svg += `<text x="14" y="${(top + height - bottom) / 2}" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle">elements per second</text>`;
  series.forEach(([name, color, pts], i) => {
    if (pts.length === 0) return;
    svg += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" ")}"/>`;
    for (const [x, y] of pts) svg += `<circle cx="${sx(x)}" cy="${sy(y)}" r="3" fill="${color}"/>`;
    svg += `<text x="${width - right + 8}" y="${top + 16 + 18 * i}" fill="${color}">${name}</text>`;
  });
  $("plot").innerHTML = svg + "</svg>";
}

async function runBench() {
  const table = $("bench-table");
  table.replaceChildren();
  row(table, ["N", "GPU", "CPU (wasm)", "GPU / CPU"], true);
  const points = [];
  for (let exponent = 10; exponent <= 28; exponent += 3) {
    const point = JSON.parse(await gpusum.bench_point(2 ** exponent, 3));
    points.push(point);
    const rate = (seconds) => (seconds === null ? "–" : `${(point.length / seconds).toExponential(2)}/s`);
    row(table, [`2^${exponent}`, [rate(point.gpu_seconds), "num"], [rate(point.cpu_seconds), "num"],
      [point.gpu_seconds === null ? "–" : `${(point.cpu_seconds / point.gpu_seconds).toFixed(2)}×`, "num"]]);
    plot(points);
  }
  // Arrays from host memory: i32, GPU (uploaded chunk by chunk) against the wasm twin.
  for (let exponent = 20; exponent <= 24; exponent += 2) {
    const sums = JSON.parse(await gpusum.sum_array(generatedBytes("i32", 2 ** exponent, exponent), "i32", false));
    if (!sums.agree) throw new Error(`i32 array 2^${exponent}: the GPU and the CPU twin differ`);
    // A browser's clock ticks in 0.1 ms: a sum inside one tick reads as no time.
    const rate = (seconds) => (!seconds ? "–" : `${(2 ** exponent / seconds).toExponential(2)}/s`);
    row(table, [`i32 array 2^${exponent}`, [rate(sums.gpu_seconds), "num"], [rate(sums.cpu_seconds), "num"],
      [!sums.gpu_seconds || !sums.cpu_seconds ? "–" : `${(sums.cpu_seconds / sums.gpu_seconds).toFixed(2)}×`, "num"]]);
  }
  return points;
}

async function main() {
  await init();
  const started = JSON.parse(await gpusum.start());
  await showAdapter(started);
  $("range-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sumRange($("start").value, $("end").value).catch((error) => {
      $("sum").textContent = `error: ${message(error)}`;
    });
  });
  $("array-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const dtype = $("array-dtype").value;
    Promise.resolve()
      .then(() => sumArray(dtype, typedBytes(dtype, $("array-values").value)))
      .catch((error) => { $("array-sum").textContent = `error: ${message(error)}`; });
  });
  wireFileSection(gpusum);
  $("run-selftest").addEventListener("click", () => runSelftest(Number(params.get("seed") ?? 1)).catch((e) => setStatus(`error: ${message(e)}`)));
  $("run-bench").addEventListener("click", () => runBench().catch((e) => setStatus(`error: ${message(e)}`)));
  if (params.has("start") || params.has("end")) {
    $("start").value = params.get("start") ?? "1";
    $("end").value = params.get("end") ?? "20";
    await sumRange($("start").value, $("end").value);
  }
  if (params.has("array")) {
    const dtype = params.get("array");
    $("array-dtype").value = dtype;
    const bytes = params.has("values")
      ? typedBytes(dtype, params.get("values"))
      : generatedBytes(dtype, Number(params.get("length") ?? 0), Number(params.get("seed") ?? 1));
    if (params.has("values")) $("array-values").value = params.get("values");
    await sumArray(dtype, bytes);
  }
  if (params.has("selftest")) {
    await runSelftest(Number(params.get("seed") ?? 1));
  }
  if (params.has("bench")) {
    await runBench();
  }
  setStatus("done");
}

main().catch((error) => setStatus(`error: ${message(error)}`));
