// Headless Chromium with WebGPU, as the web tests need it: Debian's binary run directly (its
// /usr/bin wrapper adds flags of its own), a fresh profile, and WebGPU allowed on the CPU
// adapters (SwiftShader) that it blocklists by default.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { chromium } from "playwright-core";

export const chromiumArgs = [
  "--headless=new",
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// `webgpu: false` leaves the blocklist alone, so a CPU-only machine's browser offers no adapter:
// the page's path without WebGPU.
export function launch({ webgpu = true } = {}) {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "gpusum-chromium-")), {
    executablePath: process.env.CHROMIUM ?? "/usr/lib/chromium/chromium",
    args: webgpu ? chromiumArgs : chromiumArgs.filter((arg) => arg !== "--enable-unsafe-webgpu"),
    viewport: { width: 1100, height: 900 },
  });
}
