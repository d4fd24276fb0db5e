/**
 * A small progress writer: on a terminal one status line redrawn in place (at most ~10 times a
 * second, cut to the terminal width); on a pipe or file a plain line at most every `intervalMs`
 * (default 10 s), so logs stay readable. Messages printed through {@link ProgressLine.log} clear
 * the status line first.
 */

/** The part of a Node stream the writer uses. */
export interface ProgressStream {
  /** Writes text as is (no newline added). */
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A status line for long runs: redrawn in place on a terminal (~10 times a second at most), a plain
 * line at most every `intervalMs` (default 10 s) on a pipe or file.
 */
export class ProgressLine {
  private last = '';
  private lastDraw = 0;
  private shown = false;
  private readonly tty: boolean;

  constructor(
    private readonly stream: ProgressStream,
    private readonly options: { intervalMs?: number; tty?: boolean } = {},
  ) {
    this.tty = options.tty ?? Boolean(stream.isTTY);
  }

  /** Shows `text` as the current status (throttled; `force` draws now). */
  update(text: string, force = false): void {
    this.last = text;
    const now = performance.now();
    const every = this.tty ? 100 : (this.options.intervalMs ?? 10_000);
    if (!force && this.lastDraw && now - this.lastDraw < every) return;
    this.lastDraw = now;
    this.draw();
  }

  /** Prints a line above the status line. */
  log(line: string): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[2K');
    this.stream.write(line + '\n');
    this.shown = false;
    if (this.tty && this.last) this.draw();
  }

  /** Draws the latest status one last time and ends the line. */
  done(finalText?: string): void {
    if (finalText !== undefined) this.last = finalText;
    if (this.last) {
      this.draw();
      if (this.tty) this.stream.write('\n');
    }
    this.shown = false;
    this.last = '';
  }

  private draw(): void {
    if (this.tty) {
      const cols = this.stream.columns ?? 120;
      const text = this.last.length > cols - 1 ? this.last.slice(0, cols - 2) + '…' : this.last;
      this.stream.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else {
      this.stream.write(this.last + '\n');
    }
  }
}

/** 75 s → "1m15s", 4000 s → "1h06m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
