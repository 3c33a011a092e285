// The page's "Sum a file" section, driven as a user would: generated files fed through the
// picker (#file), the raw type and byte order chosen in their selects, each #file-sum compared
// with what the CLI prints for the same file, and each bad file's #file-status with the CLI's
// message. page-test.mjs calls it on the page it opened.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { DTYPES, generatedBytes } from "./arrays.mjs";

const DESCR = {
  i8: "i1", i16: "i2", i32: "i4", i64: "i8", u8: "u1", u16: "u2", u32: "u4", u64: "u8", f32: "f4", f64: "f8",
};

/** A .npy file's bytes: version 1 header, then `data`. */
function npy(descr, shape, data, fortran = false) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': (${dims}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, ...Buffer.from("NUMPY"), 1, 0, header.length & 0xff, header.length >> 8]);
  head.set(Buffer.from(header, "latin1"), 10);
  return Buffer.concat([head, data]);
}

/** The bytes of `data` with each `size`-byte element reversed: big-endian from little. */
function swapped(data, size) {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

const floats = (Typed, values) => Buffer.from(new Uint8Array(Typed.from(values).buffer));

/** Every file the test feeds the page: [name, bytes, raw type and byte order or null]. */
function files() {
  const list = [];
  for (const [dtype, [size]] of Object.entries(DTYPES)) {
    const data = Buffer.from(generatedBytes(dtype, 100_003, size + dtype.length));
    list.push([`${dtype}.npy`, npy(`<${DESCR[dtype]}`, [100_003], data), null]);
    if (size > 1) list.push([`${dtype}_be.npy`, npy(`>${DESCR[dtype]}`, [100_003], swapped(data, size)), null]);
  }
  list.push(["u8_fortran.npy", npy("|u1", [301, 333], Buffer.from(generatedBytes("u8", 301 * 333, 3)), true), null]);
  list.push(["f4_fortran.npy", npy("<f4", [97, 65], Buffer.from(generatedBytes("f32", 97 * 65, 4)), true), null]);
  list.push(["f8_cancel.npy", npy("<f8", [5], floats(Float64Array, [1e308, 0.5, 1, -1e308, 0.25])), null]);
  list.push(["f4_cancel.npy", npy("<f4", [4], floats(Float32Array, [3e38, 1, -3e38, 2 ** -20])), null]);
  // Tens of MB: the GPU's 8 MiB chunks and the twin's many times over.
  list.push(["u32_40mb.npy", npy("<u4", [10_000_019], Buffer.from(generatedBytes("u32", 10_000_019, 17))), null]);
  list.push(["i16.raw", swapped(Buffer.from(generatedBytes("i16", 50_001, 21)), 2), ["i16", "big"]]);
  list.push(["f64.raw", Buffer.from(generatedBytes("f64", 30_001, 22)), ["f64", "little"]]);
  // Bad files: the CLI's messages.
  const whole = npy("<i8", [1000], Buffer.from(generatedBytes("i64", 1000, 23)));
  list.push(["truncated.npy", whole.subarray(0, whole.length - 100), null]);
  list.push(["half.npy", npy("<f2", [4], Buffer.alloc(8)), null]);
  list.push(["partial.raw", Buffer.alloc(7), ["i32", "little"]]);
  return list;
}

/** What the CLI says of `path`: its sum, or its error without the `gpusum: ` and the path. */
function cli(binary, path, raw) {
  const args = ["file", "--backend", "cpu", path];
  if (raw) args.push("--dtype", raw[0], ...(raw[1] === "big" ? ["--big-endian"] : []));
  try {
    return { sum: execFileSync(binary, args, { stdio: "pipe" }).toString().trim() };
  } catch (error) {
    const said = error.stderr.toString().trim().split("\n")[0].replace(/^gpusum: /, "");
    return { error: said.replaceAll(path, basename(path)) };
  }
}

/** Feeds `path` to the picker and resolves to what the section shows once it settles;
 * `during(page)` runs while the sum does. */
async function feed(page, path, during = async () => {}) {
  await page.evaluate(() => { document.getElementById("file-status").textContent = ""; });
  await page.setInputFiles("#file", path);
  await during(page);
  await page.waitForFunction(() => {
    const status = document.getElementById("file-status").textContent;
    return status === "done" || status.startsWith("error");
  }, null, { timeout: 120_000 });
  return page.evaluate(() => ({
      status: document.getElementById("file-status").textContent,
      sum: document.getElementById("file-sum").textContent,
      cpu: document.getElementById("file-cpu").textContent,
      check: document.getElementById("file-check").textContent,
  }));
}

/** Sums each file on `page` (open, status done) and appends what differs to `failures`; then
 * cancels a long sum and checks the page sums the next file. */
export async function testFiles(page, binary, scratch, failures) {
  for (const [name, bytes, raw] of files()) {
    const path = join(scratch, name);
    writeFileSync(path, bytes);
    const want = cli(binary, path, raw);
    if (raw) {
      await page.selectOption("#dtype", raw[0]);
      await page.selectOption("#byte-order", raw[1]);
    }
    const got = await feed(page, path);
    const ok = want.error
      ? got.status === `error: ${want.error}` && got.sum === ""
      : got.status === "done" && got.sum === want.sum && got.cpu === want.sum && got.check.startsWith("✓");
    console.log(`  file ${name}`.padEnd(52) + ` ${ok ? "ok" : "WRONG"}`);
    if (!ok) failures.push(`file ${name}: page ${JSON.stringify(got)}, CLI ${JSON.stringify(want)}`);
  }
  const long = join(scratch, "cancelled.npy");
  writeFileSync(long, npy("<u4", [10_000_019], Buffer.from(generatedBytes("u32", 10_000_019, 31))));
  const cancelled = await feed(page, long, (page) => page.click("#file-cancel"));
  const again = await feed(page, join(scratch, "f8_cancel.npy"));
  const ok = cancelled.status === "error: cancelled" && again.status === "done" && again.sum === "1.75";
  console.log("  file cancelled mid-sum, then another".padEnd(52) + ` ${ok ? "ok" : "WRONG"}`);
  if (!ok) failures.push(`cancel: ${JSON.stringify(cancelled)}, then ${JSON.stringify(again)}`);
}
