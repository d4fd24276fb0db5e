// @ts-check
/**
 * The browser side of the tensor library's browser test (driven by run.ts): imports the built
 * package exactly as a web app would, acquires a device through navigator.gpu, runs a smoke
 * computation and the selected op-vector cases, shows them in a table (for the screenshot) and
 * leaves a report in `window.__report` for the runner.
 *
 * Query parameters: `ops` (comma-separated op names, or `*` for every op with an adapter),
 * `fixtures` (URL of the folder holding ops.json and ops.safetensors; absent = smoke only).
 */
import {
  init,
  getBackend,
  tensor,
  add,
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

async function main() {
  if (!navigator.gpu) {
    throw new Error('navigator.gpu is undefined: this browser exposes no WebGPU (Chromium needs --enable-unsafe-webgpu on Linux, plus --enable-features=Vulkan --use-angle=vulkan without a GPU).');
  }
  const backend = await init();
  const a = backend.info.adapter;
  report.adapter = [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' / ') || 'unknown';
  document.getElementById('status').textContent = `adapter: ${report.adapter}`;

  const s = await smoke();
  report.results.push(s);
  row(s.passed ? 'pass' : 'fail', s.passed ? 'PASS' : 'FAIL', s.key, s.op, s.line);

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
