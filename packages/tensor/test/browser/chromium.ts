/**
 * Headless Chromium with WebGPU on Linux without a GPU, for the browser tests: the flags, and a
 * launch that finds the binary (CHROMIUM_PATH, default Debian's /usr/bin/chromium).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Chromium flags for WebGPU on Linux without a GPU: WebGPU is behind --enable-unsafe-webgpu on
 * Linux, and Vulkan + ANGLE-on-Vulkan give Dawn a (SwiftShader) Vulkan device. Containers often
 * have a tiny /dev/shm, hence --disable-dev-shm-usage; the rest keep a headless run quiet and
 * offline.
 */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=vulkan',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium binary the browser tests use. */
export const chromiumPath = (): string => process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Whether the browser tests can run here (a Chromium, and RPSAM2_SKIP_BROWSER not set). */
export const browserAvailable = (): boolean => process.env.RPSAM2_SKIP_BROWSER !== '1' && existsSync(chromiumPath());

/** Starts headless Chromium with {@link CHROMIUM_ARGS} (and --no-sandbox as root). */
export async function launchChromium(): Promise<Browser> {
  // Chromium, like Dawn, wants a runtime dir; containers and CI often have none.
  process.env.XDG_RUNTIME_DIR ||= '/tmp';
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Playwright gives every launch a fresh temporary profile (--user-data-dir).
    args: [...CHROMIUM_ARGS, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
}
