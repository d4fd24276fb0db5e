/**
 * Messages to the user: banners for problems that need action (no WebGPU, weights that do not
 * fit, frames that fail to decode), short notices that fade, and the status bar with a
 * progress bar for the job in hand.
 */
import type { ErrorCode } from '../worker/protocol.js';

/** A banner's look. */
export type BannerKind = 'error' | 'warning' | 'info';

/** Title and remedy shown for each worker error code. */
export const ERROR_TITLES: Record<ErrorCode, string> = {
  'no-webgpu': 'WebGPU is not available in this browser',
  'device-lost': 'The GPU device was lost',
  'weights-mismatch': 'These weights do not match the SAM 2 model',
  'shift-block-mismatch': 'This shift block does not fit the loaded SAM 2 model',
  'bad-file': 'The file could not be read',
  'no-model': 'No model is loaded yet',
  'no-shift-block': 'RP-SAM2 needs a shift block',
  'not-encoded': 'The frame is not encoded yet',
  'bad-request': 'Internal error (bad request to the model worker)',
  internal: 'The model failed',
};

export class Messages {
  constructor(
    private readonly banners: HTMLElement,
    private readonly toasts: HTMLElement,
    private readonly statusText: HTMLElement,
    private readonly statusBar: HTMLElement,
  ) {}

  /** Shows (or replaces, by key) a banner; detail text is shown pre-formatted. */
  banner(key: string, kind: BannerKind, title: string, detail = ''): void {
    this.dismiss(key);
    const el = document.createElement('div');
    el.className = `banner banner-${kind}`;
    el.dataset.key = key;
    const head = document.createElement('div');
    head.className = 'banner-head';
    const t = document.createElement('strong');
    t.textContent = title;
    const close = document.createElement('button');
    close.className = 'banner-close';
    close.title = 'Dismiss';
    close.textContent = '×';
    close.addEventListener('click', () => el.remove());
    head.append(t, close);
    el.append(head);
    if (detail) {
      const pre = document.createElement('pre');
      pre.textContent = detail;
      el.append(pre);
    }
    this.banners.append(el);
  }

  /** Removes a banner by key. */
  dismiss(key: string): void {
    for (const el of this.banners.querySelectorAll<HTMLElement>('.banner')) if (el.dataset.key === key) el.remove();
  }

  /** Banner texts now shown (tests read them). */
  bannerTexts(): string[] {
    return [...this.banners.querySelectorAll<HTMLElement>('.banner')].map((b) => b.textContent ?? '');
  }

  /** A short notice that fades after a few seconds. */
  notice(text: string, kind: 'info' | 'warning' = 'info'): void {
    const el = document.createElement('div');
    el.className = `toast toast-${kind}`;
    el.textContent = text;
    this.toasts.append(el);
    setTimeout(() => el.classList.add('toast-out'), kind === 'warning' ? 6000 : 3500);
    setTimeout(() => el.remove(), kind === 'warning' ? 6600 : 4100);
  }

  /** The status line and its progress: a fraction in [0, 1], 'busy' (unknown length) or null (idle). */
  status(text: string, progress: number | 'busy' | null = null): void {
    this.statusText.textContent = text;
    const bar = this.statusBar;
    bar.classList.toggle('busy', progress === 'busy');
    bar.classList.toggle('idle', progress === null);
    bar.style.width = typeof progress === 'number' ? `${Math.round(Math.min(1, Math.max(0, progress)) * 100)}%` : progress === 'busy' ? '30%' : '0%';
  }
}
