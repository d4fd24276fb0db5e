// @ts-check
/**
 * The browser side of the tensor library's browser test (driven by run.ts): imports the built
 * package exactly as a web app would, acquires a device through navigator.gpu, runs a smoke
 * computation, imageTokens against a JS reference and the selected op-vector cases, shows them in
 * a table (for the screenshot) and leaves a report in `window.__report` for the runner.
 *
 * Query parameters: `ops` (comma-separated op names, or `*` for every op with an adapter),
 * `fixtures` (URL of the folder holding ops.json and ops.safetensors; absent = smoke only).
 */
import {
  init,
  getBackend,
  tensor,
  add,
  imageTokens,
  noGrad,
  SafetensorsFile,
  bytesSource,
} from '@rpsam2/tensor';
import { parseOpCases, runOpCase, formatCaseResult, OP_ADAPTERS } from '@rpsam2/tensor/testing';

const query = new URLSearchParams(location.search);
const wanted = (query.get('ops') ?? '').split(',').filter(Boolean);
const fixtures = query.get('fixtures');

/** @type {{adapter: string, results: {key: string, op: string, passed: boolean, line: string}[], skipped: {key: string, op: string, why: string}[], liveBytes: number, error: string | null, done: boolean}} */
const report = { adapter: '', results: [], skipped: [], liveBytes: 0, error: null, done: false };
// Visible from the start, so that a runner that gives up waiting still sees the cases done so far.
/** @type {any} */ (window).__report = report;

const table = /** @type {HTMLTableElement} */ (document.getElementById('results'));
/** @param {string} cls @param {string} status @param {string} key @param {string} op @param {string} detail */
function row(cls, status, key, op, detail) {
  const tr = table.insertRow();
  for (const text of [status, key, op, detail]) tr.insertCell().textContent = text;
  tr.className = cls;
}

/** add() on navigator.gpu, read back: proves the package works here even without fixtures. */
async function smoke() {
  const t0 = performance.now();
  const a = tensor([1, 2, 3], [3]);
  const b = tensor([10, 20, 30], [3]);
  const c = add(a, b);
  const got = Array.from(await c.data());
  for (const t of [a, b, c]) t.dispose();
  const passed = got.join() === '11,22,33';
  const line = `${passed ? 'PASS' : 'FAIL'} smoke add([1,2,3], [10,20,30]) = [${got.join(', ')}]${passed ? '' : ' (expected [11, 22, 33])'} [${(performance.now() - t0).toFixed(0)} ms]`;
  return { key: 'smoke', op: 'add', passed, line };
}

/**
 * imageTokens (the transpose kernel with an addend; not among the op vectors) against a JS
 * reference: x [2, 8, 4, 4] plus a per-channel [1, 8, 1, 1] and a full [2, 8, 4, 4] addend, as
 * tokens [2, 16, 8].
 * @param {'channel' | 'image'} kind
 */
async function imageTokensCase(kind) {
  const t0 = performance.now();
  const [b, c, h, w] = [2, 8, 4, 4];
  const p = h * w;
  const xd = Float32Array.from({ length: b * c * p }, (_, i) => Math.sin(i * 0.37) * 3);
  const ashape = kind === 'channel' ? [1, c, 1, 1] : [b, c, h, w];
  const ad = Float32Array.from({ length: ashape.reduce((s, d) => s * d, 1) }, (_, i) => Math.cos(i * 0.91));
  const want = new Float32Array(b * p * c);
  for (let n = 0; n < b; n++)
    for (let q = 0; q < p; q++)
      for (let k = 0; k < c; k++) want[(n * p + q) * c + k] = xd[(n * c + k) * p + q] + (kind === 'channel' ? ad[k] : ad[(n * c + k) * p + q]);
  const x = tensor(xd, [b, c, h, w]);
  const a = tensor(ad, ashape);
  const y = noGrad(() => imageTokens(x, a));
  const got = await y.data();
  for (const t of [x, a, y]) t.dispose();
  const bad = want.findIndex((v, i) => v !== got[i]);
  const passed = bad < 0 && got.length === want.length;
  const line = `${passed ? 'PASS' : 'FAIL'} imageTokens [2, 8, 4, 4] + ${kind === 'channel' ? '[1, 8, 1, 1]' : '[2, 8, 4, 4]'} → [2, 16, 8]${passed ? ', every element exact' : ` (element ${bad}: ${got[bad]}, expected ${want[bad]})`} [${(performance.now() - t0).toFixed(0)} ms]`;
  return { key: `imageTokens-${kind}`, op: 'imageTokens', passed, line };
}

async function main() {
  if (!navigator.gpu) {
    throw new Error('navigator.gpu is undefined: this browser exposes no WebGPU (Chromium needs --enable-unsafe-webgpu on Linux, plus --enable-features=Vulkan --use-angle=vulkan without a GPU).');
  }
  const backend = await init();
  const a = backend.info.adapter;
  report.adapter = [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' / ') || 'unknown';
  document.getElementById('status').textContent = `adapter: ${report.adapter}`;

  for (const s of [await smoke(), await imageTokensCase('channel'), await imageTokensCase('image')]) {
    report.results.push(s);
    row(s.passed ? 'pass' : 'fail', s.passed ? 'PASS' : 'FAIL', s.key, s.op, s.line);
  }

  if (fixtures) {
    const cases = parseOpCases(await (await fetch(`${fixtures}/ops.json`)).json(), `${fixtures}/ops.json`);
    const res = await fetch(`${fixtures}/ops.safetensors`);
    if (!res.ok) throw new Error(`${fixtures}/ops.safetensors: HTTP ${res.status}`);
    const file = await SafetensorsFile.open(bytesSource(new Uint8Array(await res.arrayBuffer()), 'ops.safetensors'));
    for (const c of cases) {
      if (!wanted.includes('*') && !wanted.includes(c.op)) continue;
      if (!OP_ADAPTERS[c.op]) {
        report.skipped.push({ key: c.key, op: c.op, why: 'not implemented yet (no adapter in OP_ADAPTERS)' });
        row('skip', 'SKIP', c.key, c.op, 'not implemented yet');
        continue;
      }
      const r = await runOpCase(c, file);
      const line = formatCaseResult(r);
      report.results.push({ key: r.key, op: r.op, passed: r.passed, line });
      row(r.passed ? 'pass' : 'fail', r.passed ? 'PASS' : 'FAIL', r.key, r.op, line.slice(5));
    }
  }
  await getBackend().sync();
  report.liveBytes = getBackend().stats().liveBytes;
}

main()
  .catch((e) => {
    report.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    row('fail', 'ERROR', '', '', report.error);
  })
  .finally(() => {
    const passed = report.results.filter((r) => r.passed).length;
    const failed = report.results.length - passed + (report.error ? 1 : 0);
    document.getElementById('status').textContent =
      `adapter: ${report.adapter || 'none'} — ${passed} passed, ${failed} failed, ${report.skipped.length} skipped`;
    report.done = true;
  });
