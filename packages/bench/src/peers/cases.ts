/**
 * `bench peers` cases: the same work on our side (WebGPU) and in onnxruntime, from the ONNX
 * exports in `../shared/fixtures/peers` (see its README): the tiny1024 image path with the
 * fixture's weights, SAM 2.1's prompt encoder + mask decoder at d = 256 (one click, multimask;
 * random weights on both sides), and a 1024³ f32 matmul. Each side's outputs are compared after
 * timing, so a fast but wrong kernel shows.
 */
import { matmul, noGrad, relL2Error, SafetensorsFile, tensor, type Tensor } from '@rpsam2/tensor';
import { fileSource } from '@rpsam2/tensor/node';
import { randomData } from '../kernels/cases.js';
import { fixtureConfig, fixtureDir } from '../sam2-bench.js';
import type { OrtModule, OrtSession, OrtTensor } from './onnxruntime.js';

/** Relative L2 error allowed between our outputs and the reference (f32 on both sides). */
export const PEER_REL_L2_TOL = 1e-3;

/** The result of comparing the two sides' outputs. */
export interface PeerCheck {
  ok: boolean;
  /** Worst relative L2 error of ours against onnxruntime (absent when values are not compared). */
  relL2?: number;
  /** One line: what was compared and how it came out. */
  note: string;
}

/** A case ready to time: both sides loaded, inputs made. */
export interface ReadyPeerCase {
  /** Our work; returns the outputs in the order of the case's `outputs` (read back when timed). */
  ours(): Tensor[];
  /** onnxruntime's work on the same inputs. */
  peer(): Promise<Record<string, OrtTensor>>;
  /** Compares each side's last outputs. */
  check(ours: Float32Array[], peer: Record<string, OrtTensor>): PeerCheck;
  dispose(): void;
}

/** One benchmark case. */
export interface PeerCase {
  /** Short id, e.g. `matmul-1024` (the JSON output's `id`). */
  id: string;
  name: string;
  shape: string;
  /** The ONNX file in the peers fixture folder. */
  onnx: string;
  /** The outputs both sides produce (onnxruntime's names), in the order `ours` returns them. */
  outputs: string[];
  /** Loads our side and makes the inputs of both (untimed). */
  setup(ort: OrtModule, session: OrtSession): Promise<ReadyPeerCase>;
}

const IMAGE = 1024;
/** The click of the decoder case, in model pixels (as `bench sam2`'s). */
const CLICK: [number, number] = [IMAGE * 0.4, IMAGE * 0.55];

/** The bench's cases, in the order they run. */
export function peerCases(): PeerCase[] {
  return [tiny1024Encoder(), decoderD256(), matmul1024()];
}

/** A peer output's data as f32 (onnxruntime returns typed arrays on the host). */
function peerData(peer: Record<string, OrtTensor>, name: string): Float32Array {
  const t = peer[name];
  if (!t) throw new Error(`onnxruntime gave no output '${name}' (it gave ${Object.keys(peer).join(', ')})`);
  return t.data as Float32Array;
}

const fmt = (x: number) => x.toExponential(1);

/** Relative L2 error of each of our outputs against onnxruntime's, worst first in `relL2`. */
function compareAll(outputs: string[], ours: Float32Array[], peer: Record<string, OrtTensor>): { worst: number; parts: string[] } {
  let worst = 0;
  const parts = outputs.map((name, i) => {
    const want = peerData(peer, name);
    const err = ours[i].length === want.length ? relL2Error(ours[i], want) : Infinity;
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    return `${name} ${ours[i].length === want.length ? fmt(err) : `size ${ours[i].length} ≠ ${want.length}`}`;
  });
  return { worst, parts };
}

function tiny1024Encoder(): PeerCase {
  const outputs = ['hr0', 'hr1', 'embed'];
  return {
    id: 'tiny1024-encoder',
    name: 'tiny1024 image path (trunk, neck, no_mem_embed), fixture weights',
    shape: `pixels [1,3,${IMAGE},${IMAGE}] → embed [1,32,64,64], hr0, hr1`,
    onnx: 'tiny1024.onnx',
    outputs,
    async setup(ort, session) {
      const sam2 = await import('@rpsam2/sam2');
      const dir = fixtureDir('tiny1024');
      // The golden file's preprocessed image: both sides encode it, and its embedding is known.
      const golden = await SafetensorsFile.open(fileSource(dir + 'golden.safetensors'));
      const px = await golden.readF32('input.pixels');
      const goldenEmbed = await golden.readF32('embed.image_embed');
      const { model } = await sam2.loadSam2({ config: fixtureConfig(sam2, 'tiny1024'), weights: dir + 'weights.safetensors' });
      const shape = [1, 3, IMAGE, IMAGE];
      const pixels = tensor(px, shape);
      const feeds = { pixels: new ort.Tensor('float32', px, shape) };
      return {
        ours: () =>
          noGrad(() => {
            const f = model.forwardImage(pixels);
            return [f.highRes[0], f.highRes[1], f.imageEmbed];
          }),
        peer: () => session.run(feeds),
        check(ours, peer) {
          const { worst, parts } = compareAll(outputs, ours, peer);
          const oursGolden = relL2Error(ours[2], goldenEmbed);
          const peerGolden = relL2Error(peerData(peer, 'embed'), goldenEmbed);
          return {
            ok: worst <= PEER_REL_L2_TOL && oursGolden <= PEER_REL_L2_TOL,
            relL2: worst,
            note: `rel L2 vs onnxruntime: ${parts.join(', ')}; embed vs golden: ours ${fmt(oursGolden)}, onnxruntime ${fmt(peerGolden)}`,
          };
        },
        dispose: () => {
          pixels.dispose();
          model.dispose();
        },
      };
    },
  };
}

function decoderD256(): PeerCase {
  const outputs = ['low_res', 'iou'];
  const inputs: Record<string, number[]> = { image_embed: [1, 256, 64, 64], high_res0: [1, 32, 256, 256], high_res1: [1, 64, 128, 128] };
  return {
    id: 'decoder-d256',
    name: 'SAM 2.1 prompt encoder + mask decoder, d = 256, 1 click, multimask (random weights)',
    shape: 'image_embed [1,256,64,64], high_res0 [1,32,256,256], high_res1 [1,64,128,128] → low_res [1,3,256,256], iou [1,3]',
    onnx: 'sam2.1_t_decoder.onnx',
    outputs,
    async setup(ort, session) {
      const sam2 = await import('@rpsam2/sam2');
      // Every official size shares this decoder; `t` is the smallest model to hold it.
      const { model } = await sam2.loadSam2({ config: sam2.presetConfig('t'), weights: { random: { seed: 0 } } });
      const data = Object.entries(inputs).map(([name, shape], k) => ({ name, shape, data: randomData(shape.reduce((a, b) => a * b, 1), k + 1) }));
      const predictor = new sam2.Sam2ImagePredictor(model);
      const [e, h0, h1] = data.map((d) => tensor(d.data, d.shape));
      // Features of a 1024×1024 image: prompt coordinates are model pixels on both sides.
      predictor.setFeatures({ imageEmbed: e, highRes: [h0, h1] }, [IMAGE, IMAGE]);
      const prompt = { points: [CLICK], labels: [1], multimaskOutput: true };
      const feeds: Record<string, OrtTensor> = Object.fromEntries(data.map((d) => [d.name, new ort.Tensor('float32', d.data, d.shape)]));
      // The ONNX graph takes the padding point explicitly (label -1), as our predictor adds it.
      feeds.coords = new ort.Tensor('float32', Float32Array.of(...CLICK, 0, 0), [1, 2, 2]);
      feeds.labels = new ort.Tensor('int32', Int32Array.of(1, -1), [1, 2]);
      return {
        ours: () =>
          noGrad(() => {
            const r = predictor.decode(prompt);
            return [r.lowRes, r.iou];
          }),
        peer: () => session.run(feeds),
        check(ours, peer) {
          // The two sides' random weights differ, so only the shapes and finiteness can agree.
          const sizes = outputs.map((name, i) => ({ name, ours: ours[i].length, peer: peerData(peer, name).length, dims: peer[name].dims }));
          const sameSize = sizes.every((s) => s.ours === s.peer);
          const finite = ours.every((d) => d.every(Number.isFinite));
          return {
            ok: sameSize && finite,
            note: `${sameSize ? 'sizes match' : 'SIZES DIFFER from'} onnxruntime (${sizes.map((s) => `${s.name} [${s.dims}]${s.ours === s.peer ? '' : ` vs ours ${s.ours} values`}`).join(', ')}), ${finite ? 'finite' : 'NOT FINITE'}; values not compared (random weights differ)`,
          };
        },
        dispose: () => {
          predictor.dispose();
          model.dispose();
        },
      };
    },
  };
}

function matmul1024(): PeerCase {
  const n = 1024;
  return {
    id: 'matmul-1024',
    name: 'f32 matmul',
    shape: `[${n},${n}]·[${n},${n}]`,
    onnx: 'matmul1024.onnx',
    outputs: ['c'],
    async setup(ort, session) {
      // The inputs of `bench kernels`' matmul-1024.
      const ad = randomData(n * n, 1);
      const bd = randomData(n * n, 2);
      const a = tensor(ad, [n, n]);
      const b = tensor(bd, [n, n]);
      const feeds = { a: new ort.Tensor('float32', ad, [n, n]), b: new ort.Tensor('float32', bd, [n, n]) };
      return {
        ours: () => [matmul(a, b)],
        peer: () => session.run(feeds),
        check(ours, peer) {
          const { worst, parts } = compareAll(['c'], ours, peer);
          return { ok: worst <= PEER_REL_L2_TOL, relL2: worst, note: `rel L2 vs onnxruntime: ${parts.join(', ')}` };
        },
        dispose: () => {
          a.dispose();
          b.dispose();
        },
      };
    },
  };
}
