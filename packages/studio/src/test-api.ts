/**
 * A read-only view of the page's state for automated tests (`window.__studio`, used by
 * test/studio.e2e.ts): readiness, frames, the current object and the accepted ones (masks as
 * COCO RLE counts), classes, banners, and frame → client coordinates for synthetic input.
 */
import { encodeRle } from '@rpsam2/sam2';
import type { StudioApp } from './app.js';

export function studioTestApi(app: StudioApp) {
  const { session, model, editor, msg, view } = app;
  const rle = (m: Uint8Array, w: number, h: number) => encodeRle({ width: w, height: h, data: m }).counts as number[];
  return {
    ready: () => ({ webgpu: model.webgpu, adapter: model.adapter, model: model.model, modelLoading: model.modelLoading || model.restarting, shiftBlock: model.shift, method: session.method, restarts: model.restarts }),
    frames: () =>
      session.frames.map((f) => {
        const s = session.status.get(f.id)!;
        return { id: f.id, name: f.name, caseName: f.caseName, decode: s.decode, decodeError: s.decodeError, embed: s.embed, width: s.width, height: s.height, objects: session.labelsOf(f.id).objects.length };
      }),
    current: () => session.currentFrame()?.id ?? null,
    busy: () => model.client.inFlight > 0 || editor.isDecoding(),
    draft: () => {
      const f = session.currentFrame();
      const d = f ? session.labelsOf(f.id).draft : null;
      if (!d) return null;
      const r = d.result;
      return { classId: d.classId, method: d.method, prompt: d.prompt, done: !!r, iou: r?.iou ?? null, refined: r?.refined ?? null, width: r?.width ?? 0, height: r?.height ?? 0, rle: r ? rle(r.mask, r.width, r.height) : null };
    },
    objects: (frameId: string) =>
      session.labelsOf(frameId).objects.map((o) => ({ id: o.id, classId: o.classId, method: o.method, prompt: o.prompt, iou: o.result.iou, refined: o.result.refined, area: o.area, width: o.result.width, height: o.result.height, rle: rle(o.result.mask, o.result.width, o.result.height) })),
    classes: () => session.classes,
    banners: () => msg.bannerTexts(),
    /** Client (viewport) coordinates of a frame coordinate, for synthetic mouse input. */
    clientPoint: (x: number, y: number) => {
      const r = view.canvas.getBoundingClientRect();
      const p = view.frameToCss(x, y);
      return { x: r.left + p.x, y: r.top + p.y };
    },
  };
}
