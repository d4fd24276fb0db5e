#!/usr/bin/env node
/**
 * `check-metrics <dir> [--filter <name|key>]`: computes Dice, HD95 (MONAI) and pooled HD95
 * (medpy) for every pred/gt pair of a folder in the format of `../shared/fixtures/metrics`
 * (`metrics.json` + `masks.safetensors`) and compares with the reference values (Dice to 1e-6,
 * HD95 to 1e-3 px; where the reference is null because a mask is empty, the project's
 * empty-mask policy applies). One line per pair, then `N passed, M failed`; exit status 1 when
 * a pair fails, 2 on a usage or read error.
 */
import { checkMetricsFolder, formatCaseCheck } from './metrics/fixture-check.js';

const USAGE = 'usage: check-metrics <dir> [--filter <name|key>]';

async function main(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let filter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (a === '--filter') {
      filter = argv[++i];
      if (filter === undefined) {
        console.error(`check-metrics: --filter needs a value\n${USAGE}`);
        return 2;
      }
    } else if (a.startsWith('--')) {
      console.error(`check-metrics: unknown flag ${a}\n${USAGE}`);
      return 2;
    } else if (dir === undefined) dir = a;
    else {
      console.error(`check-metrics: one folder expected, got '${dir}' and '${a}'\n${USAGE}`);
      return 2;
    }
  }
  if (!dir) {
    console.error(USAGE);
    return 2;
  }
  console.log(
    'empty-mask policy: both empty → Dice 1, HD95 0; one empty → Dice 0, HD95 = image diagonal √(W²+H²); tolerances: Dice 1e-6, HD95 1e-3 px',
  );
  const t0 = performance.now();
  const results = await checkMetricsFolder(dir, { filter });
  for (const r of results) console.log(formatCaseCheck(r));
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`(${results.length} pairs in ${(performance.now() - t0).toFixed(0)} ms)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 || results.length === 0 ? 1 : 0;
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((e) => {
    console.error(`check-metrics: ${(e as Error).message}`);
    console.log('0 passed, 1 failed');
    process.exit(2);
  });
