/**
 * The page's controls wired to the session: file and folder pickers, the synthetic frame, the
 * model and shift-block pickers, the f16 switch, method and box-mode buttons, undo/redo,
 * accept/discard, the exports, the class list buttons, keyboard shortcuts and drag and drop
 * anywhere on the page.
 */
import type { StudioApp } from '../app.js';
import { exportAs } from '../export/export-labels.js';
import { filesFromDrop, filesFromInput } from '../frames/open-files.js';
import { actionFor } from '../keyboard.js';
import { defaultClasses, newClass } from '../state/classes.js';
import type { Method } from '../worker/protocol.js';
import { isTyping } from './canvas-view.js';
import { $ } from './dom.js';

/** Adds the page's event listeners (once, at start). */
export function wireControls(app: StudioApp): void {
  const { session, model, editor, nav, msg } = app;
  const filesInput = $('files-input') as HTMLInputElement;
  const folderInput = $('folder-input') as HTMLInputElement;
  const weightsInput = $('weights-input') as HTMLInputElement;
  const shiftInput = $('shift-input') as HTMLInputElement;
  $('open-files').addEventListener('click', () => filesInput.click());
  $('open-folder').addEventListener('click', () => folderInput.click());
  $('dz-files').addEventListener('click', () => filesInput.click());
  $('dz-folder').addEventListener('click', () => folderInput.click());
  $('synthetic').addEventListener('click', () => void nav.addSynthetic());
  $('dz-synthetic').addEventListener('click', () => void nav.addSynthetic());
  filesInput.addEventListener('change', () => {
    void nav.addFiles(filesFromInput(filesInput.files));
    filesInput.value = '';
  });
  folderInput.addEventListener('change', () => {
    void nav.addFiles(filesFromInput(folderInput.files));
    folderInput.value = '';
  });
  $('load-weights').addEventListener('click', () => weightsInput.click());
  weightsInput.addEventListener('change', () => {
    void model.loadWeightsFiles([...(weightsInput.files ?? [])]);
    weightsInput.value = '';
  });
  $('load-shift').addEventListener('click', () => shiftInput.click());
  shiftInput.addEventListener('change', () => {
    const file = shiftInput.files?.[0];
    if (file) void model.loadShiftBlock({ kind: 'file', file, name: file.name });
    shiftInput.value = '';
  });
  const dtype = $('dtype') as HTMLInputElement;
  dtype.addEventListener('change', () => {
    model.dtype = dtype.checked ? 'f16' : 'f32';
    msg.notice(`Weights load as ${model.dtype} from now on (reload the model to apply).`);
  });
  for (const b of document.querySelectorAll<HTMLButtonElement>('[data-method]')) b.addEventListener('click', () => editor.setMethod(b.dataset.method as Method, true));
  $('box-mode').addEventListener('click', () => app.run({ type: 'toggle-box' }));
  $('undo').addEventListener('click', () => app.run({ type: 'undo' }));
  $('redo').addEventListener('click', () => app.run({ type: 'redo' }));
  $('accept').addEventListener('click', () => app.run({ type: 'accept' }));
  $('discard').addEventListener('click', () => app.run({ type: 'discard' }));
  $('export-coco').addEventListener('click', () => void exportAs(app, 'coco'));
  $('export-zip').addEventListener('click', () => void exportAs(app, 'zip'));
  $('export-png').addEventListener('click', () => void exportAs(app, 'png'));
  $('add-class').addEventListener('click', () => {
    const c = newClass(session.classes, `C${session.classes.length + 1}`, `Class ${session.classes.length + 1}`);
    editor.updateClasses([...session.classes, c]);
  });
  $('reset-classes').addEventListener('click', () => {
    const used = session.classUsage();
    const defaults = defaultClasses();
    const missing = [...used.keys()].filter((id) => !defaults.some((c) => c.id === id));
    if (missing.length) return void msg.notice('Objects use classes that the default list does not have: re-label them first.', 'warning');
    editor.updateClasses(defaults);
  });
  window.addEventListener('keydown', (e) => {
    if (isTyping(e.target)) return;
    const a = actionFor(e);
    if (!a) return;
    e.preventDefault();
    app.run(a);
  });
  // Drag and drop anywhere on the page.
  const stage = $('stage');
  window.addEventListener('dragover', (e) => {
    e.preventDefault();
    stage.classList.add('dragging');
  });
  window.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null) stage.classList.remove('dragging');
  });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    stage.classList.remove('dragging');
    if (!e.dataTransfer) return;
    void filesFromDrop(e.dataTransfer).then(({ files, errors }) => nav.addFiles(files, errors));
  });
}
