/**
 * The labeling page's controller: frames, labels, the model worker, the view and the panels.
 *
 * Flow: frames are opened (drop, pickers, or a synthetic frame); showing a frame decodes it,
 * draws it and asks the worker to encode it (once: the worker caches embeddings for the
 * session; the next frame is encoded in the background). A click starts an object (or, with
 * Ctrl/⌘ or Shift, adds a positive or negative click to the current one); each prompt change
 * asks the worker to decode, and the answer is applied only if the prompt is still the same.
 * Every label change is one undo step. Exports take the accepted objects (current objects are
 * accepted first).
 *
 * This class only puts the parts together and routes keyboard actions; each part has the app
 * to reach the others:
 *
 * - `session` (state/session.ts): frames, their status, labels, history, classes;
 * - `editor` (state/label-editor.ts): clicks and boxes → labels, masks asked for and applied;
 * - `nav` (frames/frame-navigator.ts): opening and showing frames;
 * - `model` (worker/model-session.ts): the model worker, encoding, recovery after a lost GPU;
 * - `render` (view/page-render.ts), `view` (the canvas), `msg` (banners, notices, status);
 * - view/controls.ts wires the page's controls; export/export-labels.ts writes the exports.
 */
import type { Action } from './keyboard.js';
import { FrameNavigator } from './frames/frame-navigator.js';
import { loadClasses } from './state/classes.js';
import { LabelEditor } from './state/label-editor.js';
import { deleteObject, discardDraft } from './state/labels.js';
import { StudioSession } from './state/session.js';
import { studioTestApi } from './test-api.js';
import { CanvasView } from './view/canvas-view.js';
import { wireControls } from './view/controls.js';
import { $, safeStorage } from './view/dom.js';
import { Messages } from './view/messages.js';
import { PageRenderer } from './view/page-render.js';
import { ModelSession } from './worker/model-session.js';

export class StudioApp {
  readonly model: ModelSession;
  readonly msg: Messages;
  readonly view: CanvasView;
  readonly session: StudioSession;
  readonly render: PageRenderer;
  readonly editor: LabelEditor;
  readonly nav: FrameNavigator;

  constructor(makeWorker: () => Worker) {
    this.model = new ModelSession(this, makeWorker);
    this.render = new PageRenderer(this);
    this.editor = new LabelEditor(this);
    this.nav = new FrameNavigator(this);
    this.msg = new Messages($('banners'), $('toasts'), $('status-text'), $('status-bar'));
    this.view = new CanvasView($('stage-canvas'), {
      click: (x, y, mods) => this.editor.onClick(x, y, mods),
      box: (box, mods) => this.editor.onBox(box, mods),
      hover: (p) => {
        this.render.hover = p;
        this.render.statusRight();
      },
    });
    this.view.interactive = false;
    this.session = new StudioSession(loadClasses(safeStorage()));
    wireControls(this);
    this.render.classes();
    this.render.help();
    this.render.all();
  }

  /** Acquires WebGPU in the worker, then loads the model (the default one at first). */
  start(): Promise<void> {
    return this.model.start();
  }

  /** Performs a keyboard action. */
  run(a: Action): void {
    const { session, editor, nav, view } = this;
    const f = session.currentFrame();
    switch (a.type) {
      case 'class': {
        const c = session.classes[a.index];
        if (c) editor.setCurrentClass(c.id);
        return;
      }
      case 'next-frame':
        return void nav.showFrame(Math.min(session.frames.length - 1, session.current + 1));
      case 'prev-frame':
        return void nav.showFrame(Math.max(0, session.current - 1));
      case 'undo':
        return editor.undoRedo(false);
      case 'redo':
        return editor.undoRedo(true);
      case 'toggle-method':
        return editor.setMethod(session.method === 'sam2' ? 'rpsam2' : 'sam2', true);
      case 'toggle-box':
        view.boxMode = !view.boxMode;
        return this.render.all();
      case 'accept':
        if (f) editor.acceptCurrent(f.id);
        return;
      case 'discard':
        if (f) editor.commit(f.id, discardDraft(session.labelsOf(f.id)), 'discard');
        return;
      case 'delete-selected': {
        const l = f ? session.labelsOf(f.id) : null;
        if (f && l?.selected != null) editor.commit(f.id, deleteObject(l, l.selected), 'delete');
        else if (f && l?.draft) editor.commit(f.id, discardDraft(l), 'discard');
        return;
      }
      case 'fit':
        return view.fit();
      case 'zoom':
        return view.zoomBy(a.factor);
      case 'help':
        ($('help-box') as HTMLDetailsElement).open = !($('help-box') as HTMLDetailsElement).open;
        return;
    }
  }

  /** A read-only view of the state for automated tests (window.__studio). */
  testApi() {
    return studioTestApi(this);
  }
}
