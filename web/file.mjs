// The page's "Sum a file" section: a file from the picker or dropped on the zone, read through
// Blob.slice in the slices the wasm side asks for (never arrayBuffer() of the whole file), with
// a progress bar and a cancel button. The automation contract: #file-sum gets the GPU's exact
// sum (the CLI's text), #file-status "done" or "error: <message>".

/** The first bytes handed over with the file: any .npy header fits (numpy writes them under
 * 64 KiB), and a raw file's first elements are read again by the sums. */
const HEAD_BYTES = 1 << 20;

const $ = (id) => document.getElementById(id);
const message = (error) => (error && error.message) || String(error);

/** `read(offset, length)` for the wasm side: a promise of those bytes of `file`. Reads go
 * forward through one byte stream into one buffer, handed back and forth (BYOB), so memory
 * stays at a chunk whatever the file's size; a read elsewhere (the twin's pass, from the data's
 * start again) opens a new stream there. */
function reader(file) {
  let stream = null;
  let at = -1;
  let buffer = new ArrayBuffer(0);
  return async (offset, length) => {
    if (offset !== at) {
      await stream?.cancel();
      stream = file.slice(offset).stream().getReader({ mode: "byob" });
      at = offset;
    }
    if (buffer.byteLength < length) buffer = new ArrayBuffer(length);
    let filled = 0;
    while (filled < length) {
      const { value, done } = await stream.read(new Uint8Array(buffer, filled, length - filled));
      if (done) throw new Error(`the file ended ${length - filled} bytes early: did it change?`);
      buffer = value.buffer;
      filled += value.byteLength;
    }
    at += length;
    return new Uint8Array(buffer, 0, length);
  };
}

function rate(count, seconds) {
  return seconds ? `${(count / seconds).toExponential(2)} values/s` : "–";
}

function show(sums, seconds) {
  $("file-sum").textContent = sums.gpu ?? sums.cpu;
  $("file-sum").dataset.gpuSeconds = sums.gpu_seconds ?? "";
  $("file-cpu").textContent = sums.cpu;
  const check = $("file-check");
  check.textContent = sums.agree ? "✓ the GPU and the CPU twin agree" : "✗ the GPU and the CPU twin differ";
  check.className = sums.agree ? "ok" : "bad";
  const count = Number(sums.count);
  $("file-detail").textContent =
    `${sums.name}: ${sums.count} ${sums.dtype} values (${sums.format}, ${sums.byte_order}-endian); ` +
    `GPU ${sums.gpu_seconds === null ? "–" : `${sums.gpu_seconds.toFixed(3)} s, ${rate(count, sums.gpu_seconds)}`}; ` +
    `CPU twin ${sums.cpu_seconds.toFixed(3)} s, ${rate(count, sums.cpu_seconds)}; ${seconds.toFixed(3)} s in all`;
}

/** Sums `file` with the page's wasm module; resolves once #file-status says how it went. */
export async function sumFile(gpusum, file) {
  for (const id of ["file-sum", "file-cpu", "file-check", "file-detail"]) $(id).textContent = "";
  const status = $("file-status");
  const bar = $("file-progress");
  const cancel = $("file-cancel");
  status.textContent = "reading";
  status.className = "";
  bar.value = 0;
  cancel.disabled = false;
  const started = performance.now();
  gpusum.begin_file();
  try {
    const head = new Uint8Array(await file.slice(0, Math.min(file.size, HEAD_BYTES)).arrayBuffer());
    const read = reader(file);
    const progress = (done, total) => {
      bar.max = Math.max(total, 1);
      bar.value = done;
    };
    const bigEndian = $("byte-order").value === "big";
    const json = await gpusum.sum_file(file.name, file.size, head, read, $("dtype").value, bigEndian, progress);
    show(JSON.parse(json), (performance.now() - started) / 1000);
    bar.value = bar.max;
    status.textContent = "done";
  } catch (error) {
    $("file-sum").textContent = "";
    status.textContent = `error: ${message(error)}`;
    status.className = "bad";
  } finally {
    cancel.disabled = true;
  }
}

/** Wires the picker, the drop zone and the cancel button to `sumFile`. */
export function wireFileSection(gpusum) {
  $("file").addEventListener("change", () => {
    const [file] = $("file").files;
    if (file) sumFile(gpusum, file);
  });
  $("file-cancel").addEventListener("click", () => gpusum.cancel_file());
  const zone = $("drop");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const [file] = event.dataTransfer.files;
    if (file) sumFile(gpusum, file);
  });
}
