import { describe, expect, it } from 'vitest';
import { ConcatSource, type ObjectRef, type PreparedBatch, type TrainingSource } from '../src/train/sources.js';
import { resolveTrainConfig } from '../src/train/config.js';

/** A source whose prepared objects name where they came from (className = `${tag}:${image}/${object}`). */
function fake(tag: string, objectsPerImage: number[]): TrainingSource & { calls: ObjectRef[][]; released: number; disposed: boolean } {
  const objects: ObjectRef[] = [];
  objectsPerImage.forEach((n, image) => {
    for (let object = 0; object < n; object++) objects.push({ image, object });
  });
  const s = {
    name: tag,
    objects,
    imageCount: objectsPerImage.length,
    calls: [] as ObjectRef[][],
    released: 0,
    disposed: false,
    async prepare(refs: readonly ObjectRef[]): Promise<PreparedBatch> {
      s.calls.push([...refs]);
      return { objects: refs.map((r) => ({ className: `${tag}:${r.image}/${r.object}` }) as never), release: () => void s.released++ };
    },
    dispose() {
      s.disposed = true;
    },
  };
  return s;
}

describe('ConcatSource', () => {
  it('numbers the images of later parts after the earlier ones and prepares each object from its own part, in the order asked', async () => {
    const a = fake('a', [2, 1]);
    const b = fake('b', [1, 3]);
    const c = new ConcatSource([a, b]);
    expect(c.imageCount).toBe(4);
    expect(c.objects).toEqual([
      { image: 0, object: 0 },
      { image: 0, object: 1 },
      { image: 1, object: 0 },
      { image: 2, object: 0 },
      { image: 3, object: 0 },
      { image: 3, object: 1 },
      { image: 3, object: 2 },
    ]);
    const batch = await c.prepare([{ image: 3, object: 2 }, { image: 0, object: 1 }, { image: 2, object: 0 }], null);
    expect(batch.objects.map((o) => o.className)).toEqual(['b:1/2', 'a:0/1', 'b:0/0']);
    // One prepare per part, with that part's own image numbers.
    expect(a.calls).toEqual([[{ image: 0, object: 1 }]]);
    expect(b.calls).toEqual([[{ image: 1, object: 2 }, { image: 0, object: 0 }]]);
    batch.release();
    expect([a.released, b.released]).toEqual([1, 1]);
    await expect(c.prepare([{ image: 4, object: 0 }], null)).rejects.toThrow(/no image 4/);
    c.dispose();
    expect(a.disposed && b.disposed).toBe(true);
    expect(() => new ConcatSource([])).toThrow(/no sources/);
  });

  it('data.extraCaches: a list of folders, cached mode only', () => {
    expect(resolveTrainConfig({ data: { cache: 'c', extraCaches: ['d', 'e'] } }).data.extraCaches).toEqual(['d', 'e']);
    expect(resolveTrainConfig({}, ['data.extraCaches=["d"]']).data.extraCaches).toEqual(['d']);
    expect(() => resolveTrainConfig({ data: { extraCaches: [''] } })).toThrow(/data.extraCaches must be a list of feature-cache folders/);
    expect(() => resolveTrainConfig({ mode: 'on-the-fly', data: { extraCaches: ['d'] } })).toThrow(/needs mode 'cached'/);
    expect(() => resolveTrainConfig({ shiftHead: 'mlp' })).toThrow(/shiftHead must be 'linear' or 'pointer'/);
  });
});
