/**
 * Model configs for --weights and the extra rows: `--extra name=path[:config]`, config paths made
 * absolute while size names stay names, and a checkpoint loaded with an official-layout YAML
 * config. Reading config files itself (YAML, JSON, errors) is tested in @rpsam2/sam2
 * (packages/sam2/test/config-file.test.ts).
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureConfigBeside } from '@rpsam2/sam2';
import { loadSam2Spec } from '../src/evaluation/sam2-models.js';
import { parseExtra, parseRunArgs } from '../src/runs/run-args.js';
import { tinyModelYaml, useTempDir } from './helpers/fixtures.js';

const TINY = new URL('../../../../shared/fixtures/sam2/tiny256/', import.meta.url).pathname;


const tmp = useTempDir('model-config');

describe('SAM 2 model configs in runs', () => {
  it('parses --extra name=path[:config]', () => {
    expect(parseExtra('MedSAM2=/m/MedSAM2_latest.pt:/m/sam2.1_hiera_t512.yaml')).toEqual({ name: 'MedSAM2', weights: '/m/MedSAM2_latest.pt', config: '/m/sam2.1_hiera_t512.yaml' });
    expect(parseExtra('SurgSAM2=ckpt/sam2_s.pt:s')).toEqual({ name: 'SurgSAM2', weights: 'ckpt/sam2_s.pt', config: 's' });
    expect(parseExtra('X=C:/w/x.pt')).toEqual({ name: 'X', weights: 'C:/w/x.pt', config: '' });
    expect(() => parseExtra('no-name')).toThrow(/name=path/);
  });

  it('config files become absolute paths (a resumed run finds them); size names stay names', () => {
    const c = parseRunArgs(
      ['--data', '/data/cataract-1k', '--weights', 'w/sam2.1_hiera_t.pt', '--config', 'cfg/sam2.1_hiera_t.yaml', '--extra', 'M=m.pt:m.yml', '--extra', 'S=s.pt:s'],
      'table1',
    ).config!;
    expect(c.sam2.config).toBe(resolve('cfg/sam2.1_hiera_t.yaml'));
    expect(c.extras.map((e) => e.config)).toEqual([resolve('m.yml'), 's']);
    const sized = parseRunArgs(['--data', '/data/cataract-1k', '--weights', '/w/sam2.1_hiera_b+.pt', '--config', 'b+'], 'table1').config!;
    expect(sized.sam2.config).toBe('b+');
  });

  it("a fixture folder's meta.json beside the weights is their config; other folders have none", async () => {
    expect(await fixtureConfigBeside(join(TINY, 'weights.safetensors'))).toBe(join(TINY, 'meta.json'));
    expect(await fixtureConfigBeside(join(tmp.dir, 'weights.safetensors'))).toBeNull();
    await writeFile(join(tmp.dir, 'meta.json'), JSON.stringify({ note: 'no model_config here' }));
    expect(await fixtureConfigBeside(join(tmp.dir, 'weights.safetensors'))).toBeNull();
    const m = await loadSam2Spec({ weights: join(TINY, 'weights.safetensors'), config: '', dtype: 'f32' });
    try {
      expect(m.description).toMatch(/config .*meta\.json beside the weights/);
    } finally {
      m.model.dispose();
    }
  });

  it('loads a checkpoint with an official-layout YAML config, named after the file', async () => {
    const cfgPath = join(tmp.dir, 'tiny256.yaml');
    await writeFile(cfgPath, tinyModelYaml(256));
    const loaded = await loadSam2Spec({ weights: TINY + 'weights.safetensors', config: cfgPath, dtype: 'f32' });
    try {
      expect(loaded.config.name).toBe('tiny256');
      expect(loaded.config.imageSize).toBe(256);
      expect(loaded.config.trunk.stages).toEqual([1, 2, 3, 1]);
      expect(loaded.report.configFrom).not.toBe('inferred');
      expect(loaded.slug).toMatch(/^tiny256-[0-9a-f]{8}$/);
      expect(loaded.description).toContain(`as tiny256 (config ${cfgPath}; 256 px`);
    } finally {
      loaded.model.dispose();
    }
    const missing = join(tmp.dir, 'missing.yaml');
    await expect(loadSam2Spec({ weights: TINY + 'weights.safetensors', config: missing, dtype: 'f32' })).rejects.toThrow(`SAM 2 config ${missing}: cannot read (ENOENT)`);
  });
});
