/**
 * Opening and showing frames: files (pickers, drop, a synthetic frame) join the list (a feature
 * cache folder among them is attached instead); showing a frame decodes it (keeping its size
 * and a thumbnail), draws it and has it encoded, with the next frame encoded in the background.
 */
import type { StudioApp } from '../app.js';
import { newFrameStatus } from '../state/session.js';
import { cacheRootOf, inCacheFolder, isCacheFilePath } from '../worker/cache-paths.js';
import type { FeaturesSource } from '../worker/protocol.js';
import { decodeFrameBitmap, thumbnail } from './decode-frame.js';
import { addFrames, type FrameEntry, type IncomingFile } from './frame-list.js';
import { syntheticFrameFile } from './synthetic-frame.js';

export class FrameNavigator {
  /** The decoded image of the frame shown. */
  private bitmap: { id: string; bitmap: ImageBitmap } | null = null;
  private syntheticSeed = (Date.now() % 100000) | 0;

  constructor(private readonly app: StudioApp) {}

  /** The decoded image of the frame shown (of frame `id` only, when given). */
  shownBitmap(id?: string): ImageBitmap | undefined {
    return id === undefined || this.bitmap?.id === id ? this.bitmap?.bitmap : undefined;
  }

  async addFiles(incoming: IncomingFile[], errors: string[] = []): Promise<void> {
    const { session, model, msg, render } = this.app;
    // A feature cache folder among the files (index.json + images/*.safetensors): attached, not listed as frames.
    const root = cacheRootOf(incoming.map((f) => f.path));
    if (root !== null) {
      const cacheFiles = incoming.filter((f) => inCacheFolder(root, f.path));
      incoming = incoming.filter((f) => !inCacheFolder(root, f.path));
      const source: FeaturesSource = { kind: 'files', files: cacheFiles.map((f) => f.file), paths: cacheFiles.map((f) => f.path) };
      // Before the worker is up, start() attaches it.
      if (model.webgpu === 'ok') void model.attachFeatures(source);
      else if (model.webgpu === 'pending') model.featuresSource = source;
    }
    const { frames, added, skipped: skippedAll, duplicates } = addFrames(session.frames, incoming);
    const skipped = skippedAll.filter((p) => !isCacheFilePath(p));
    session.frames = frames;
    for (const f of added) {
      session.status.set(f.id, newFrameStatus());
    }
    if (skipped.length) msg.notice(`Skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} that are not images (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''}).`, 'warning');
    if (duplicates.length) msg.notice(`${duplicates.length} frame${duplicates.length === 1 ? ' was' : 's were'} open already.`);
    if (errors.length) msg.banner('drop', 'warning', 'Some dropped entries could not be read', errors.join('\n'));
    render.frames();
    if (added.length && session.current < 0) await this.showFrame(session.frames.indexOf(added[0]));
    else if (added.length) msg.notice(`Added ${added.length} frame${added.length === 1 ? '' : 's'}.`);
    render.all();
  }

  /** Adds a new synthetic frame (the next seed) and shows it. */
  async addSynthetic(): Promise<void> {
    const file = await syntheticFrameFile(this.syntheticSeed++);
    await this.addFiles([{ file, path: `synthetic/${file.name}` }]);
    const i = this.app.session.frames.findIndex((f) => f.name === file.name);
    if (i >= 0) await this.showFrame(i);
  }

  /** Decodes a frame's file (keeping its size and a thumbnail); marks it bad with a banner on failure. */
  async decodeBitmap(f: FrameEntry): Promise<ImageBitmap | null> {
    const { session, msg, render } = this.app;
    const s = session.status.get(f.id)!;
    try {
      const bitmap = await decodeFrameBitmap(f.file, f.path);
      const first = s.decode !== 'ok';
      s.decode = 'ok';
      s.width = bitmap.width;
      s.height = bitmap.height;
      if (first) {
        s.thumb = thumbnail(bitmap);
        render.frameRow(f.id);
      }
      return bitmap;
    } catch (e) {
      s.decode = 'bad';
      s.decodeError = (e as Error).message;
      msg.banner(`decode:${f.id}`, 'error', 'A frame could not be decoded', `${s.decodeError}\n\nThe frame stays in the list (marked ⚠) and is left out of the exports.`);
      render.frameRow(f.id);
      return null;
    }
  }

  async showFrame(index: number): Promise<void> {
    const { session, model, view, editor, render } = this.app;
    if (index < 0 || index >= session.frames.length) return;
    const prev = session.currentFrame();
    if (prev && index !== session.current) editor.acceptCurrent(prev.id);
    session.current = index;
    const f = session.frames[index];
    render.frames();
    render.all();
    if (this.bitmap?.id !== f.id) {
      this.bitmap?.bitmap.close();
      this.bitmap = null;
      const bm = await this.decodeBitmap(f);
      if (session.currentFrame()?.id !== f.id) {
        bm?.close();
        return;
      }
      this.bitmap = bm ? { id: f.id, bitmap: bm } : null;
    }
    view.setFrame(this.bitmap?.bitmap ?? null, f.id);
    render.refreshView();
    render.all();
    if (this.bitmap) {
      // Failures are shown on the frame (and in a banner) by ensureEncoded.
      model.ensureEncoded(f.id, 'now').catch(() => {});
      // The next frame is encoded meanwhile, so that moving on is instant.
      const next = session.frames[index + 1];
      if (next) model.ensureEncoded(next.id, 'background').catch(() => {});
    }
  }
}
