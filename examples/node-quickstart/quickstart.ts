import { initNode } from '@rpsam2/tensor/node';
import { shutdown } from '@rpsam2/tensor';
import { RpSam2Predictor } from '@rpsam2/rpsam2';

// A synthetic 640×480 RGB frame: a bright instrument (a slanted bar) over an eye (an orange disc).
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

await initNode(); // WebGPU through Dawn (the `webgpu` package)
const rp = await RpSam2Predictor.load(); // the embedded default SAM 2 + the shift block shipped for it
try {
  await rp.setImage({ width, height, data: rgb, channels: 3 }); // runs SAM 2's encoder once
  const { mask, refined, score } = await rp.predict([320, 240]); // one click [x, y] in pixels
  const area = mask.reduce((sum, v) => sum + v, 0); // mask: width·height bytes, 1 = object
  console.log(`click (320, 240) → refined (${refined[0].toFixed(1)}, ${refined[1].toFixed(1)})`);
  console.log(`mask: ${area} px, predicted IoU ${score.toFixed(3)}`);
} finally {
  rp.dispose(); // frees the image features, SAM 2 and the shift block
  shutdown(); // releases the WebGPU device
}
