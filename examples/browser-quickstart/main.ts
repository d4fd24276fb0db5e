import { bytesSource, init, shutdown } from '@rpsam2/tensor';
import { parseDefaultModelConfig } from '@rpsam2/sam2';
import { RpSam2Predictor } from '@rpsam2/rpsam2';

// Where the page can fetch the packages' models/ folders: here the installed node_modules served
// as is (with Vite, import the files with `?url` instead).
const SAM2_MODEL = 'node_modules/@rpsam2/sam2/models/synthetic/';
const SHIFT_BLOCK = 'node_modules/@rpsam2/rpsam2/models/synthetic/';

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

// The same synthetic 640×480 frame as the Node quick start.
const width = 640;
const height = 480;
const rgb = new Uint8Array(width * height * 3);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const onBar = x > 150 && x < 560 && Math.abs(y - 240 - 0.5 * (x - 320)) < 14;
    const inEye = (x - 320) ** 2 + (y - 240) ** 2 < 200 ** 2;
    rgb.set(onBar ? [215, 215, 220] : inEye ? [190, 100, 55] : [60, 25, 20], (y * width + x) * 3);
  }
}

await init(); // the browser's WebGPU (navigator.gpu)
// In a browser the default models come as bytes: SAM 2's weights with its config, and the shift block.
const rp = await RpSam2Predictor.load({
  sam2Weights: bytesSource(await fetchBytes(SAM2_MODEL + 'weights.safetensors'), 'default SAM 2 weights'),
  sam2Config: parseDefaultModelConfig(await (await fetch(SAM2_MODEL + 'config.json')).text()),
  shiftBlock: bytesSource(await fetchBytes(SHIFT_BLOCK + 'weights.safetensors'), 'default shift block'),
});
try {
  await rp.setImage({ width, height, data: rgb, channels: 3 });
  const { mask, refined, score } = await rp.predict([320, 240]);
  const area = mask.reduce((sum, v) => sum + v, 0);
  const line = `click (320, 240) → refined (${refined[0].toFixed(1)}, ${refined[1].toFixed(1)}); mask: ${area} px, predicted IoU ${score.toFixed(3)}`;
  document.body.textContent = line;
  console.log(line);
} finally {
  rp.dispose();
  shutdown();
}
