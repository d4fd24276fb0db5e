/** What a dispatch profile holds, and its presentation as a table. */

/** Dispatches of one kernel under one label. */
export interface ProfileEntry {
  /** The kernel's key (`Kernel.key`, e.g. 'resample_axis:v4'). */
  kernel: string;
  /** The `profileScope` label the dispatches ran under ('' for none; backward rules get '∇<op>'). */
  label: string;
  calls: number;
  /** Summed execution time of the dispatches, ms. */
  totalMs: number;
  meanMs: number;
}

/** Transfers of one kind: how many, and their bytes. */
export interface TransferCount {
  count: number;
  bytes: number;
}

/** The result of a profiling session (`stopProfile`). */
export interface ProfileReport {
  /** One entry per (kernel, label), by total time, largest first. */
  entries: ProfileEntry[];
  /** Dispatches timed. */
  dispatches: number;
  /** Time spent in kernels (the sum of `entries`), ms. */
  kernelMs: number;
  /** Wall time from `startProfile` until the GPU finished the work recorded before `stopProfile`, ms. */
  wallMs: number;
  /** `writeBuffer` uploads (tensor creation, optimizer state loads…). */
  uploads: TransferCount;
  /** Buffer reads to the CPU (`Tensor.data()`…). */
  readbacks: TransferCount;
  /** Buffer-to-buffer copies on the GPU (not timed: only compute passes carry timestamps). */
  copies: TransferCount;
}

/** How {@link groupProfile} merges entries: per kernel, per label, or neither. */
export type ProfileGrouping = 'kernel' | 'label' | 'kernel+label';

/** The report's entries merged by `by` (merged entries keep an empty `label` or `kernel`), largest first. */
export function groupProfile(report: ProfileReport, by: ProfileGrouping): ProfileEntry[] {
  if (by === 'kernel+label') return report.entries;
  const groups = new Map<string, ProfileEntry>();
  for (const e of report.entries) {
    const name = by === 'kernel' ? e.kernel : e.label;
    const g = groups.get(name) ?? { kernel: by === 'kernel' ? e.kernel : '', label: by === 'label' ? e.label : '', calls: 0, totalMs: 0, meanMs: 0 };
    g.calls += e.calls;
    g.totalMs += e.totalMs;
    groups.set(name, g);
  }
  return [...groups.values()].map((g) => ({ ...g, meanMs: g.totalMs / g.calls })).sort((a, b) => b.totalMs - a.totalMs);
}

/** Options of {@link formatProfile}. */
export interface FormatProfileOptions {
  /** Rows merged per kernel (default), per label, or listed per kernel and label. */
  by?: ProfileGrouping;
  /** Whether to end with the summary line (default true). */
  summary?: boolean;
}

/**
 * A text table of the `top` largest rows by total time (kernel, calls, total ms, % of kernel time,
 * mean ms), a row for the rest, and a summary line (kernel vs wall time, transfers). Labels show
 * as '(no label)' when grouping by label.
 */
export function formatProfile(report: ProfileReport, top = 25, options: FormatProfileOptions = {}): string {
  const by = options.by ?? 'kernel';
  const rows = groupProfile(report, by);
  const name = (e: ProfileEntry) => (by === 'kernel' ? e.kernel : by === 'label' ? e.label || '(no label)' : e.label ? `${e.kernel} [${e.label}]` : e.kernel);
  const pct = (ms: number) => (report.kernelMs > 0 ? (100 * ms) / report.kernelMs : 0);
  const cells: string[][] = rows.slice(0, top).map((e) => [name(e), String(e.calls), e.totalMs.toFixed(1), pct(e.totalMs).toFixed(1), e.meanMs.toFixed(3)]);
  const rest = rows.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, e) => s + e.totalMs, 0);
    const calls = rest.reduce((s, e) => s + e.calls, 0);
    cells.push([`(${rest.length} more)`, String(calls), ms.toFixed(1), pct(ms).toFixed(1), (ms / calls).toFixed(3)]);
  }
  const header = [by === 'label' ? 'label' : 'kernel', 'calls', 'total ms', '%', 'mean ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const share = report.wallMs > 0 ? ` (${((100 * report.kernelMs) / report.wallMs).toFixed(1)}% of ${report.wallMs.toFixed(1)} ms wall)` : '';
  const summary =
    `${report.dispatches} dispatches, ${report.kernelMs.toFixed(1)} ms in kernels${share}; ` +
    `uploads ${report.uploads.count} (${mb(report.uploads.bytes)}), readbacks ${report.readbacks.count} (${mb(report.readbacks.bytes)}), ` +
    `copies ${report.copies.count} (${mb(report.copies.bytes)})`;
  const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  return (options.summary ?? true ? [...table, summary] : table).join('\n');
}
