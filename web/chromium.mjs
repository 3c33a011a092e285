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

export function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "gpusum-chromium-")), {
    executablePath: process.env.CHROMIUM ?? "/usr/lib/chromium/chromium",
    args: chromiumArgs,
    viewport: { width: 1100, height: 900 },
  });
}
