/**
 * The page's export actions: every current object with a mask is accepted first, then the
 * labeled frames (objects in acceptance order; frames that failed to decode are left out) are
 * written as COCO `instances.json`, a zip of PNG masks, or the dataset archive with the images.
 */
import type { StudioApp } from '../app.js';
import { hasPrompt } from '../state/labels.js';
import { buildCoco } from './coco.js';
import { buildDatasetZip, buildMasksZip, type DatasetFrame } from './dataset-zip.js';
import { download, stamp } from './download.js';
import type { ExportFrame } from './frames.js';

/** What an export writes: COCO JSON, PNG masks (zip), or the dataset archive (zip). */
export type ExportKind = 'coco' | 'zip' | 'png';

/** Accepts every current object, then the labeled frames (objects in acceptance order). */
export function exportFrames(app: StudioApp): ExportFrame[] {
  const { session, editor } = app;
  for (const f of session.frames) {
    const d = session.labelsOf(f.id).draft;
    if (d?.result) editor.acceptCurrent(f.id);
  }
  const out: ExportFrame[] = [];
  for (const f of session.frames) {
    const l = session.labelsOf(f.id);
    const s = session.status.get(f.id)!;
    if (l.objects.length === 0 || s.decode !== 'ok') continue;
    out.push({
      fileName: f.name,
      caseName: f.caseName,
      width: s.width,
      height: s.height,
      objects: l.objects.map((o) => ({ id: o.id, classId: o.classId, mask: o.result.mask, method: o.method, prompt: o.prompt, refined: o.result.refined, iou: o.result.iou })),
    });
  }
  return out;
}

/** Exports the labels as a download (problems are shown as a banner). */
export async function exportAs(app: StudioApp, kind: ExportKind): Promise<void> {
  const { session, model, msg } = app;
  const frames = exportFrames(app);
  const pending = [...session.labels.values()].filter((l) => l.draft && !l.draft.result && hasPrompt(l.draft.prompt)).length;
  if (pending) msg.notice(`${pending} object${pending === 1 ? ' is' : 's are'} still being segmented and ${pending === 1 ? 'is' : 'are'} not in this export.`, 'warning');
  if (frames.length === 0) return void msg.notice('Nothing to export yet: label an instrument first.', 'warning');
  const n = frames.reduce((s, f) => s + f.objects.length, 0);
  try {
    if (kind === 'coco') {
      const paths = new Map(session.frames.map((f) => [`${f.caseName}/${f.name}`, f.path]));
      const doc = buildCoco(frames, session.classes, { fileName: (f) => paths.get(`${f.caseName}/${f.fileName}`) ?? f.fileName });
      download(JSON.stringify(doc), 'instances.json', 'application/json');
    } else if (kind === 'png') {
      download(await buildMasksZip(frames, session.classes), `masks_${stamp()}.zip`, 'application/zip');
    } else {
      msg.status('building the archive…', 'busy');
      const withImages: DatasetFrame[] = [];
      for (const f of frames) {
        const entry = session.frames.find((x) => x.caseName === f.caseName && x.name === f.fileName)!;
        withImages.push({ ...f, image: new Uint8Array(await entry.file.arrayBuffer()) });
      }
      const zip = await buildDatasetZip(withImages, session.classes, { model: model.model?.label ?? 'none', shiftBlock: model.shift?.label ?? null });
      download(zip, `rpsam2-labels_${stamp()}.zip`, 'application/zip');
    }
    msg.status(`exported ${n} object${n === 1 ? '' : 's'} on ${frames.length} frame${frames.length === 1 ? '' : 's'}`, null);
  } catch (e) {
    msg.banner('export', 'error', 'Export failed', (e as Error).message);
  }
}
