import { describe, expect, it } from 'vitest';
import { addFrames, caseFolderOf, isImagePath, naturalCompare, type IncomingFile } from '../src/frames/frame-list.js';
import { sniffImageFormat } from '../src/frames/decode-frame.js';
import { hexRgb, overlayPixels, paintMask } from '../src/view/overlay.js';
import { addPoint, EMPTY_LABELS, withResult, acceptDraft } from '../src/state/labels.js';
import { defaultClasses } from '../src/state/classes.js';

const file = (path: string): IncomingFile => ({ file: new File(['x'], path.slice(path.lastIndexOf('/') + 1)), path });

describe('frame list', () => {
  it('sorts naturally and keeps images only', () => {
    expect(['f10.png', 'f2.png', 'F1.png'].sort(naturalCompare)).toEqual(['F1.png', 'f2.png', 'f10.png']);
    expect(isImagePath('a/b.JPG')).toBe(true);
    expect(isImagePath('a/b.json')).toBe(false);
    const r = addFrames([], [file('v/frame_10.png'), file('v/frame_2.png'), file('v/notes.txt'), file('v/frame_1.jpg')]);
    expect(r.frames.map((f) => f.id)).toEqual(['v/frame_1.jpg', 'v/frame_2.png', 'v/frame_10.png']);
    expect(r.skipped).toEqual(['v/notes.txt']);
  });

  it('takes the case from a case folder, else invents one per folder without reusing names', () => {
    expect(caseFolderOf('Annotations/x/case_5013/img/a.png')).toBe('case_5013');
    expect(caseFolderOf('a.png')).toBeNull();
    const r = addFrames([], [file('case_0001/img/a.png'), file('videoA/a.png'), file('videoA/b.png'), file('videoB/a.png'), file('loose.png')]);
    const caseOf = Object.fromEntries(r.frames.map((f) => [f.id, f.caseName]));
    expect(caseOf['case_0001/img/a.png']).toBe('case_0001');
    // 'case_0001' is taken by a real case folder: invented names skip it.
    expect(caseOf['loose.png']).toBe('case_0002');
    expect(caseOf['videoA/a.png']).toBe('case_0003');
    expect(caseOf['videoA/b.png']).toBe('case_0003');
    expect(caseOf['videoB/a.png']).toBe('case_0004');
    // A later drop into a known folder keeps its case; known paths are duplicates.
    const more = addFrames(r.frames, [file('videoA/c.png'), file('videoA/a.png'), file('videoC/z.png')]);
    expect(more.duplicates).toEqual(['videoA/a.png']);
    expect(more.added.map((f) => [f.id, f.caseName])).toEqual([
      ['videoA/c.png', 'case_0003'],
      ['videoC/z.png', 'case_0005'],
    ]);
    expect(more.frames).toHaveLength(7);
  });

  it('recognises image files by their first bytes', () => {
    expect(sniffImageFormat(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('PNG');
    expect(sniffImageFormat(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('JPEG');
    expect(sniffImageFormat(new TextEncoder().encode('RIFF1234WEBPVP8 '))).toBe('WebP');
    expect(sniffImageFormat(new TextEncoder().encode('hello'))).toBeNull();
  });
});

describe('mask overlay', () => {
  it('fills the inside translucent and the 4-neighbour outline opaque', () => {
    // 4×4 mask with a 3×3 block at the top left: only its centre (1, 1) is inside.
    const m = new Uint8Array(16);
    for (const i of [0, 1, 2, 4, 5, 6, 8, 9, 10]) m[i] = 1;
    const out = new Uint8ClampedArray(64);
    paintMask(out, m, 4, 4, [10, 20, 30], 100, [1, 2, 3]);
    const px = (x: number, y: number) => Array.from(out.slice(4 * (y * 4 + x), 4 * (y * 4 + x) + 4));
    expect(px(1, 1)).toEqual([10, 20, 30, 100]);
    expect(px(0, 0)).toEqual([1, 2, 3, 255]);
    expect(px(2, 1)).toEqual([1, 2, 3, 255]);
    expect(px(3, 3)).toEqual([0, 0, 0, 0]);
    expect(hexRgb('#ff8000')).toEqual([255, 128, 0]);
  });

  it('draws objects in their class colour and the draft with a white outline on top', () => {
    const classes = defaultClasses();
    const full = new Uint8Array(9).fill(1);
    const r = { method: 'sam2' as const, width: 3, height: 3, mask: full, iou: 1, refined: null };
    let l = acceptDraft(withResult(addPoint(EMPTY_LABELS, { x: 1, y: 1, label: 1 }, 4, 'sam2'), 'sam2: +1,1', r), 1);
    let px = overlayPixels(l, classes, 3, 3);
    expect(Array.from(px.slice(16, 20))).toEqual([...hexRgb(classes[3].color), 96]); // centre: IA fill
    l = withResult(addPoint(l, { x: 0, y: 0, label: 1 }, 1, 'sam2'), 'sam2: +0,0', r);
    px = overlayPixels(l, classes, 3, 3);
    expect(Array.from(px.slice(0, 4))).toEqual([255, 255, 255, 255]); // draft outline
    expect(Array.from(px.slice(16, 20))).toEqual([...hexRgb(classes[0].color), 130]); // draft fill over the object
  });
});
