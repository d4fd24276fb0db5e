/**
 * The frame view: one canvas showing the frame, the mask overlay and the prompt markers (raw
 * clicks, refined clicks with the shift drawn as an arrow, the box), with zoom (wheel, about the
 * cursor) and pan (middle or right drag, or space + drag). Pointer input comes out as pixel
 * clicks and boxes in frame coordinates (integer pixel indices, column x and row y).
 */
import type { PromptBox, PromptPoint } from '../worker/protocol.js';

/** Modifier keys of a click or drag. */
export interface Modifiers {
  shift: boolean;
  /** Ctrl, or ⌘ on macOS. */
  ctrl: boolean;
  alt: boolean;
}

/** What the view reports. */
export interface ViewEvents {
  click(x: number, y: number, mods: Modifiers): void;
  box(box: PromptBox, mods: Modifiers): void;
  hover(p: { x: number; y: number } | null): void;
}

/** Prompt markers to draw (frame coordinates). */
export interface Markers {
  points: readonly PromptPoint[];
  /** Refined positions of the positive points, in their order (RP-SAM2), or null. */
  refined: readonly (readonly [number, number])[] | null;
  box: PromptBox | null;
  /** Class colour. */
  color: string;
}

const MIN_SCALE = 0.05;
const MAX_SCALE = 40;
/** A press that moves less than this (CSS px) is a click, not a drag. */
const CLICK_SLOP = 4;

export class CanvasView {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private frame: ImageBitmap | null = null;
  private overlay: OffscreenCanvas | null = null;
  private markers: Markers[] = [];
  /** Frame pixel → CSS pixel: screen = offset + scale · frame. */
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private fitted = false;
  /** Whether the user zoomed or panned since the last fit (a resize then keeps their view). */
  private moved = false;
  private frameKey = '';
  private dpr = 1;
  private raf = 0;
  private drag: { kind: 'pan' | 'box' | 'press'; x0: number; y0: number; ox: number; oy: number; x: number; y: number; mods: Modifiers } | null = null;
  private spaceDown = false;
  /** Box mode: a left drag draws a box instead of panning. */
  boxMode = false;
  /** Whether clicks and boxes are accepted (false without a model). */
  interactive = true;

  constructor(
    private readonly container: HTMLElement,
    private readonly events: ViewEvents,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'frame-canvas';
    this.canvas.tabIndex = 0;
    container.appendChild(this.canvas);
    const ctx = this.canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas context');
    this.ctx = ctx;
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
    this.canvas.addEventListener('pointerdown', (e) => this.down(e));
    this.canvas.addEventListener('pointermove', (e) => this.move(e));
    this.canvas.addEventListener('pointerup', (e) => this.up(e));
    this.canvas.addEventListener('pointerleave', () => this.events.hover(null));
    this.canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    this.canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    window.addEventListener('keydown', (e) => {
      if (e.code === 'Space' && !isTyping(e.target)) this.spaceDown = true;
    });
    window.addEventListener('keyup', (e) => {
      if (e.code === 'Space') this.spaceDown = false;
    });
  }

  /** Shows a frame (null: none). A new frame (by key) is fitted to the view. */
  setFrame(bitmap: ImageBitmap | null, key: string): void {
    this.frame = bitmap;
    if (key !== this.frameKey) {
      this.frameKey = key;
      this.fitted = false;
      this.overlay = null;
      this.markers = [];
    }
    if (bitmap && !this.fitted) this.fit();
    this.requestRender();
  }

  /** Sets the overlay pixels (RGBA at the frame's size), or clears it. */
  setOverlay(pixels: Uint8ClampedArray | null, width: number, height: number): void {
    if (!pixels) {
      this.overlay = null;
    } else {
      if (!this.overlay || this.overlay.width !== width || this.overlay.height !== height) this.overlay = new OffscreenCanvas(width, height);
      const c = this.overlay.getContext('2d');
      c?.putImageData(new ImageData(pixels as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
    }
    this.requestRender();
  }

  setMarkers(markers: Markers[]): void {
    this.markers = markers;
    this.requestRender();
  }

  /** Fits the frame into the view. */
  fit(): void {
    const f = this.frame;
    if (!f) return;
    const w = this.container.clientWidth;
    const h = this.container.clientHeight;
    if (w < 2 || h < 2) return;
    const pad = 16;
    this.scale = Math.min((w - 2 * pad) / f.width, (h - 2 * pad) / f.height);
    this.ox = (w - f.width * this.scale) / 2;
    this.oy = (h - f.height * this.scale) / 2;
    this.fitted = true;
    this.moved = false;
    this.requestRender();
  }

  /** Zooms by `factor` about a CSS point (default: the centre). */
  zoomBy(factor: number, cx = this.container.clientWidth / 2, cy = this.container.clientHeight / 2): void {
    const s = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    const k = s / this.scale;
    this.ox = cx - (cx - this.ox) * k;
    this.oy = cy - (cy - this.oy) * k;
    this.scale = s;
    this.moved = true;
    this.requestRender();
  }

  /** CSS position (relative to the canvas) of a frame coordinate (continuous). */
  frameToCss(x: number, y: number): { x: number; y: number } {
    return { x: this.ox + x * this.scale, y: this.oy + y * this.scale };
  }

  /** The pixel (integer indices) under a CSS position, or null outside the frame. */
  pixelAt(cssX: number, cssY: number): { x: number; y: number } | null {
    const f = this.frame;
    if (!f) return null;
    const x = Math.floor((cssX - this.ox) / this.scale);
    const y = Math.floor((cssY - this.oy) / this.scale);
    return x >= 0 && y >= 0 && x < f.width && y < f.height ? { x, y } : null;
  }

  private resize(): void {
    this.dpr = window.devicePixelRatio || 1;
    const w = this.container.clientWidth;
    const h = this.container.clientHeight;
    this.canvas.width = Math.max(1, Math.round(w * this.dpr));
    this.canvas.height = Math.max(1, Math.round(h * this.dpr));
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    // Banners and panels change the view's size: keep the frame fitted unless the user moved it.
    if (!this.fitted || !this.moved) this.fit();
    this.requestRender();
  }

  private local(e: PointerEvent | WheelEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private down(e: PointerEvent): void {
    this.canvas.focus();
    const p = this.local(e);
    const mods: Modifiers = { shift: e.shiftKey, ctrl: e.ctrlKey || e.metaKey, alt: e.altKey };
    const pan = e.button === 1 || e.button === 2 || (e.button === 0 && this.spaceDown);
    if (!pan && e.button !== 0) return;
    const kind = pan ? 'pan' : this.boxMode && this.interactive ? 'box' : 'press';
    this.drag = { kind, x0: p.x, y0: p.y, ox: this.ox, oy: this.oy, x: p.x, y: p.y, mods };
    this.canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
  }

  private move(e: PointerEvent): void {
    const p = this.local(e);
    this.events.hover(this.pixelAt(p.x, p.y));
    const d = this.drag;
    if (!d) return;
    d.x = p.x;
    d.y = p.y;
    if (d.kind === 'pan' || (d.kind === 'press' && Math.hypot(p.x - d.x0, p.y - d.y0) > CLICK_SLOP)) {
      // A left drag without box mode pans too.
      d.kind = 'pan';
      this.moved = true;
      this.ox = d.ox + (p.x - d.x0);
      this.oy = d.oy + (p.y - d.y0);
    }
    this.requestRender();
  }

  private up(e: PointerEvent): void {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    this.canvas.releasePointerCapture?.(e.pointerId);
    const p = this.local(e);
    if (d.kind === 'press' && this.interactive) {
      const px = this.pixelAt(p.x, p.y);
      if (px) this.events.click(px.x, px.y, d.mods);
    } else if (d.kind === 'box' && this.interactive && this.frame) {
      const f = this.frame;
      const clampX = (v: number) => Math.min(f.width, Math.max(0, (v - this.ox) / this.scale));
      const clampY = (v: number) => Math.min(f.height, Math.max(0, (v - this.oy) / this.scale));
      const [ax, bx] = [clampX(d.x0), clampX(p.x)].sort((a, b) => a - b);
      const [ay, by] = [clampY(d.y0), clampY(p.y)].sort((a, b) => a - b);
      if (bx - ax >= 2 && by - ay >= 2) {
        this.events.box({ x0: Math.round(ax), y0: Math.round(ay), x1: Math.round(bx), y1: Math.round(by) }, d.mods);
      } else {
        const px = this.pixelAt(p.x, p.y);
        if (px) this.events.click(px.x, px.y, d.mods);
      }
    }
    this.requestRender();
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const p = this.local(e);
    this.zoomBy(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)), p.x, p.y);
  }

  /** Schedules a redraw on the next animation frame. */
  requestRender(): void {
    if (this.raf) return;
    this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.render();
    });
  }

  /** Draws now. */
  render(): void {
    const c = this.ctx;
    const { dpr } = this;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const f = this.frame;
    if (!f) return;
    c.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.ox, dpr * this.oy);
    c.imageSmoothingEnabled = this.scale < 2;
    c.imageSmoothingQuality = 'high';
    c.drawImage(f, 0, 0);
    if (this.overlay) {
      c.imageSmoothingEnabled = false;
      c.drawImage(this.overlay, 0, 0);
    }
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (const m of this.markers) this.drawMarkers(m);
    const d = this.drag;
    if (d?.kind === 'box') {
      c.save();
      c.setLineDash([6, 4]);
      c.strokeStyle = '#ffffff';
      c.lineWidth = 1.5;
      c.strokeRect(Math.min(d.x0, d.x) + 0.5, Math.min(d.y0, d.y) + 0.5, Math.abs(d.x - d.x0), Math.abs(d.y - d.y0));
      c.restore();
    }
  }

  private drawMarkers(m: Markers): void {
    const c = this.ctx;
    if (m.box) {
      const a = this.frameToCss(m.box.x0, m.box.y0);
      const b = this.frameToCss(m.box.x1, m.box.y1);
      c.save();
      c.setLineDash([7, 4]);
      c.lineWidth = 2;
      c.strokeStyle = m.color;
      c.strokeRect(a.x, a.y, b.x - a.x, b.y - a.y);
      c.restore();
    }
    let k = 0;
    for (const p of m.points) {
      // SAM 2 reads a click on pixel (x, y) at its centre.
      const raw = this.frameToCss(p.x + 0.5, p.y + 0.5);
      const r = p.label === 1 && m.refined ? m.refined[k] : undefined;
      if (p.label === 1) k++;
      if (r) {
        const to = this.frameToCss(r[0] + 0.5, r[1] + 0.5);
        drawArrow(c, raw.x, raw.y, to.x, to.y, m.color);
      }
      drawClick(c, raw.x, raw.y, p.label === 1 ? '#22c55e' : '#ef4444', p.label === 1 ? '+' : '−');
      if (r) {
        const to = this.frameToCss(r[0] + 0.5, r[1] + 0.5);
        drawRefined(c, to.x, to.y, m.color);
      }
    }
  }
}

function drawClick(c: CanvasRenderingContext2D, x: number, y: number, fill: string, sign: string): void {
  c.save();
  c.beginPath();
  c.arc(x, y, 7, 0, 2 * Math.PI);
  c.fillStyle = fill;
  c.fill();
  c.lineWidth = 2;
  c.strokeStyle = '#ffffff';
  c.stroke();
  c.fillStyle = '#ffffff';
  c.font = 'bold 12px system-ui, sans-serif';
  c.textAlign = 'center';
  c.textBaseline = 'middle';
  c.fillText(sign, x, y + 0.5);
  c.restore();
}

function drawRefined(c: CanvasRenderingContext2D, x: number, y: number, color: string): void {
  c.save();
  c.beginPath();
  c.moveTo(x, y - 7);
  c.lineTo(x + 7, y);
  c.lineTo(x, y + 7);
  c.lineTo(x - 7, y);
  c.closePath();
  c.fillStyle = color;
  c.fill();
  c.lineWidth = 2;
  c.strokeStyle = '#111827';
  c.stroke();
  c.restore();
}

function drawArrow(c: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number, color: string): void {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len < 2) return;
  const ux = (x1 - x0) / len;
  const uy = (y1 - y0) / len;
  const head = Math.min(10, len * 0.5);
  c.save();
  c.lineCap = 'round';
  for (const [w, s] of [[4.5, 'rgba(0,0,0,0.6)'], [2, color]] as const) {
    c.lineWidth = w;
    c.strokeStyle = s;
    c.beginPath();
    c.moveTo(x0, y0);
    c.lineTo(x1 - ux * head * 0.6, y1 - uy * head * 0.6);
    c.stroke();
  }
  c.beginPath();
  c.moveTo(x1, y1);
  c.lineTo(x1 - ux * head - uy * head * 0.5, y1 - uy * head + ux * head * 0.5);
  c.lineTo(x1 - ux * head + uy * head * 0.5, y1 - uy * head - ux * head * 0.5);
  c.closePath();
  c.fillStyle = color;
  c.fill();
  c.restore();
}

/** Whether keyboard focus is in a text field (shortcuts stay off there). */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}
