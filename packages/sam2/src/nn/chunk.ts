/**
 * Row chunking for layers whose intermediates would not fit one storage binding (128 MiB on
 * lavapipe and in browsers' default limits): the work is independent per row (per window, per
 * token), so it runs on slices along dim 0 and the results are concatenated. When everything
 * fits, `fn` runs once on `x` itself (no copies), so results are unchanged.
 */
import { cat, getBackend, reshape, slice, tidy, type Tensor } from '@rpsam2/tensor';

/**
 * Rows per chunk so that `[rows, ...]` intermediates of `floatsPerRow` f32 values each stay
 * within the device's largest storage binding (at least 1).
 */
export function rowsPerBinding(floatsPerRow: number): number {
  return Math.max(1, Math.floor(getBackend().maxBinding / (4 * Math.max(1, floatsPerRow))));
}

/** `fn` over slices of `x` along dim 0 of at most `rows` rows, concatenated along dim 0. */
export function mapRows(x: Tensor, rows: number, fn: (part: Tensor) => Tensor): Tensor {
  const n = x.shape[0];
  if (n <= rows) return fn(x);
  const parts: Tensor[] = [];
  for (let start = 0; start < n; start += rows) {
    // Each chunk's intermediates are freed before the next one runs.
    parts.push(tidy(() => fn(slice(x, [{ start, end: Math.min(n, start + rows) }]))));
  }
  const out = cat(parts, 0);
  for (const p of parts) p.dispose();
  return out;
}

/**
 * `fn` applied per token of a channels-last map `[..., C]`, chunked so that a per-token
 * intermediate of `floatsPerToken` values fits a binding; the result keeps the leading dims.
 */
export function mapTokens(x: Tensor, floatsPerToken: number, fn: (tokens: Tensor) => Tensor): Tensor {
  const lead = x.shape.slice(0, -1);
  const n = lead.reduce((a, b) => a * b, 1);
  const rows = rowsPerBinding(floatsPerToken);
  if (n <= rows) return fn(x);
  // tidy: the flattened views and the concatenation are freed; the result's view keeps the data.
  return tidy(() => {
    const y = mapRows(reshape(x, [n, x.shape[x.rank - 1]]), rows, fn);
    return reshape(y, [...lead, y.shape[y.rank - 1]]);
  });
}
