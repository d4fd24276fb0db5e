/**
 * SAM 2 config files: the official Hydra YAML (read with `yaml`), the same layout as JSON, a
 * fixture's meta.json, size names, and errors that name the file, the line and the field.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { presetConfig, type Sam2Config } from '../src/config.js';
import { isSam2ConfigPath, parseSam2ConfigText, readSam2ConfigArg } from '../src/config-file.js';
import { HIERA_T_YAML, fixtureConfig, fixtureDir } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'sam2-config-file-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function put(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** Everything but the name. */
const fields = (c: Sam2Config) => ({ ...c, name: '' });

describe('parseSam2ConfigText', () => {
  it('an official sam2.1 YAML gives the preset config; its name comes from the source file', () => {
    const cfg = parseSam2ConfigText(HIERA_T_YAML, { source: '/cfg/sam2.1/sam2.1_hiera_t.yaml' });
    expect(fields(cfg)).toEqual(fields(presetConfig('t')));
    expect(cfg.name).toBe('sam2.1_hiera_t');
    // 'auto' and an explicit name: the same config.
    expect(parseSam2ConfigText(HIERA_T_YAML, { name: 'mine' })).toEqual({ ...presetConfig('t'), name: 'mine' });
    // As the official file ships (no extra args): build_sam2's defaults apply, the same preset.
    const official = HIERA_T_YAML.replace(/  # build_sam2's apply_postprocessing[\s\S]*?thresh: 0\.98\n/, '');
    expect(official).not.toMatch(/sam_mask_decoder_extra_args/);
    expect(fields(parseSam2ConfigText(official, { source: 'sam2.1_hiera_t.yaml' }))).toEqual(fields(presetConfig('t')));
  });

  it('reads the YAML scalars the way Hydra does for our fields', () => {
    // A 512 px Hiera-L variant (as MedSAM2 ships one): sizes from block sequences, a quoted
    // string, `True` and `false` booleans, and a top-level Hydra interpolation that stays text.
    const yaml = [
      'model:',
      '  image_size: 512',
      '  image_encoder:',
      '    scalp: 1',
      '    trunk: {embed_dim: 144, num_heads: 2, global_att_blocks: [23, 33, 43], window_spec: [8, 4, 16, 8], window_pos_embed_bkg_spatial_size: [7, 7],',
      '            stages: [2, 6, 36, 4]}',
      '    neck:',
      '      d_model: 256',
      '      backbone_channel_list:',
      '        - 1152',
      '        - 576',
      '        - 288',
      '        - 144',
      '      fpn_top_down_levels: [2, 3]',
      "      fpn_interp_model: 'nearest'",
      '  use_high_res_features_in_sam: True',
      '  iou_prediction_use_sigmoid: TRUE',
      '  pred_obj_scores: true',
      '  pred_obj_scores_mlp: true',
      '  directly_add_no_mem_embed: true',
      '  sam_mask_decoder_extra_args:',
      '    dynamic_multimask_via_stability: false',
      '    dynamic_multimask_stability_delta: 5e-2',
      '    dynamic_multimask_stability_thresh: 0.9',
      'resolution: ${model.image_size}',
    ].join('\n');
    const cfg = parseSam2ConfigText(yaml, { source: 'sam2.1_hiera_l512.yml', format: 'yaml' });
    expect(fields(cfg)).toEqual({
      ...fields(presetConfig('l')),
      imageSize: 512,
      dynamicMultimaskViaStability: false,
      dynamicMultimaskStabilityDelta: 0.05,
      dynamicMultimaskStabilityThresh: 0.9,
    });
    expect(cfg.name).toBe('sam2.1_hiera_l512');
  });

  it('JSON in the official layout, with or without the model key', () => {
    const model = {
      _target_: 'sam2.modeling.sam2_base.SAM2Base',
      image_encoder: {
        scalp: 1,
        trunk: { embed_dim: 112, num_heads: 2, stages: [2, 3, 16, 3], global_att_blocks: [12, 16, 20], window_pos_embed_bkg_spatial_size: [14, 14] },
        neck: { d_model: 256, backbone_channel_list: [896, 448, 224, 112], fpn_top_down_levels: [2, 3], fpn_interp_model: 'nearest' },
      },
      use_high_res_features_in_sam: true,
      iou_prediction_use_sigmoid: true,
      pred_obj_scores: true,
      pred_obj_scores_mlp: true,
      directly_add_no_mem_embed: true,
      sam_mask_decoder_extra_args: { dynamic_multimask_via_stability: true, dynamic_multimask_stability_delta: 0.05, dynamic_multimask_stability_thresh: 0.98 },
    };
    const want = fields(presetConfig('b+'));
    expect(fields(parseSam2ConfigText(JSON.stringify({ model }, null, 2), { format: 'json' }))).toEqual(want);
    expect(fields(parseSam2ConfigText(JSON.stringify(model)))).toEqual(want);
    expect(parseSam2ConfigText(JSON.stringify(model)).name).toBe('custom');
  });

  it("a fixture's meta.json: model_config, and its top-level image_size", () => {
    const text = readFileSync(fixtureDir('tiny256') + 'meta.json', 'utf8');
    const cfg = parseSam2ConfigText(text, { source: fixtureDir('tiny256') + 'meta.json' });
    expect(fields(cfg)).toEqual(fields(fixtureConfig('tiny256')));
    expect(cfg.imageSize).toBe(256);
    expect(cfg.trunk.embedDim).toBe(16);
    expect(cfg.name).toBe('meta');
    // The top-level size wins over model_config's.
    const meta = JSON.parse(text);
    const resized = parseSam2ConfigText(JSON.stringify({ ...meta, image_size: 128 }), { name: 'x' });
    expect(resized.imageSize).toBe(128);
  });

  it('bad YAML: the source, the problem and its line', () => {
    const bad = 'model:\n  image_encoder:\n    trunk: [1, 2\n  neck: {}\n';
    expect(() => parseSam2ConfigText(bad, { source: 'cfg/bad.yaml' })).toThrow(/^SAM 2 config cfg\/bad\.yaml: not valid YAML: .* at line \d+, column \d+/);
    const dup = 'model:\n  image_size: 512\n  image_size: 1024\n';
    expect(() => parseSam2ConfigText(dup, { source: 'dup.yaml' })).toThrow(/dup\.yaml: not valid YAML: Map keys must be unique at line 3, column 3/);
    const indent = 'model:\n  image_size: 512\n   scalp: 1\n';
    expect(() => parseSam2ConfigText(indent, { source: 'indent.yaml' })).toThrow(/indent\.yaml: not valid YAML: Nested mappings are not allowed in compact mappings at line 2, column 15/);
  });

  it('bad JSON: the source, the problem and its line and column', () => {
    expect(() => parseSam2ConfigText('{\n  "model": {\n    "image_size": 512,\n  }\n}', { source: 'm.json' })).toThrow(
      /^SAM 2 config m\.json: not valid JSON \(.*line 4, column 3/,
    );
  });

  it('a document that is not a config: errors name the missing or mistyped field', () => {
    expect(() => parseSam2ConfigText('', { source: 'empty.yaml' })).toThrow(/empty\.yaml: expected a mapping .* got an empty document/);
    expect(() => parseSam2ConfigText('- 1\n- 2\n', { source: 'list.yaml' })).toThrow(/list\.yaml: expected a mapping .* got a list/);
    expect(() => parseSam2ConfigText('model: 3\n', { source: 'm.yaml' })).toThrow(/m\.yaml: 'model' must be a mapping, got 3/);
    expect(() => parseSam2ConfigText('{"model": {"image_encoder": {}}}', { source: 'e.json' })).toThrow(/^SAM 2 config e\.json: missing 'model\.image_encoder\.trunk'/);
    // YAML 1.2: `yes` is a string, which would silently read as true — it is refused instead.
    const yes = HIERA_T_YAML.replace('use_high_res_features_in_sam: true', 'use_high_res_features_in_sam: yes');
    expect(() => parseSam2ConfigText(yes, { source: 't.yaml' })).toThrow(/t\.yaml: use_high_res_features_in_sam must be true or false \(got 'yes'\)/);
    const quoted = HIERA_T_YAML.replace('image_size: 1024', 'image_size: "1024"');
    expect(() => parseSam2ConfigText(quoted, { source: 't.yaml' })).toThrow(/t\.yaml: image_size must be a number \(got '1024'\)/);
    const badList = HIERA_T_YAML.replace('global_att_blocks: [5, 7, 9]', 'global_att_blocks: [5, 7.5, 9]');
    expect(() => parseSam2ConfigText(badList, { source: 't.yaml' })).toThrow(/t\.yaml: trunk\.global_att_blocks must be a list of integers/);
    // An invariant of the model code (validateConfig), said once with the source.
    const mismatch = HIERA_T_YAML.replace('backbone_channel_list: [768, 384, 192, 96]', 'backbone_channel_list: [768, 384, 192, 48]');
    expect(() => parseSam2ConfigText(mismatch, { source: 't.yaml' })).toThrow(/^SAM 2 config t\.yaml: neck\.backbone_channel_list \[768,384,192,48\] does not match/);
  });
});

describe('readSam2ConfigArg', () => {
  it('size names and their aliases', async () => {
    for (const [arg, name] of [['t', 'sam2.1_hiera_t'], ['tiny', 'sam2.1_hiera_t'], ['s', 'sam2.1_hiera_s'], ['b+', 'sam2.1_hiera_b+'], ['base_plus', 'sam2.1_hiera_b+'], ['l', 'sam2.1_hiera_l'], ['large', 'sam2.1_hiera_l']]) {
      expect((await readSam2ConfigArg(arg)).name).toBe(name);
    }
    await expect(readSam2ConfigArg('xl')).rejects.toThrow(/^SAM 2 config 'xl': unknown SAM 2 size 'xl' .*or give a path to a \.yaml or \.json config/);
  });

  it('files: .yaml, .yml, .json, and a path without extension read by its content', async () => {
    expect(fields(await readSam2ConfigArg(put('sam2.1_hiera_t.yaml', HIERA_T_YAML)))).toEqual(fields(presetConfig('t')));
    expect((await readSam2ConfigArg(put('hiera_t.yml', HIERA_T_YAML))).name).toBe('hiera_t');
    const meta = await readSam2ConfigArg(fixtureDir('tiny256') + 'meta.json');
    expect(fields(meta)).toEqual(fields(fixtureConfig('tiny256')));
    expect((await readSam2ConfigArg(put('noext', HIERA_T_YAML))).name).toBe('noext');
    // A .json file is read as JSON even if the text would be YAML.
    await expect(readSam2ConfigArg(put('yaml-in.json', HIERA_T_YAML))).rejects.toThrow(/yaml-in\.json: not valid JSON/);
  });

  it('errors name the path and the reason', async () => {
    const missing = join(work, 'missing.yaml');
    await expect(readSam2ConfigArg(missing)).rejects.toThrow(`SAM 2 config ${missing}: cannot read (ENOENT)`);
    await expect(readSam2ConfigArg(work + '/')).rejects.toThrow(/: cannot read \(EISDIR\)/);
    const bad = put('bad.yaml', 'model:\n  image_size: 512\n  image_size: 1024\n');
    await expect(readSam2ConfigArg(bad)).rejects.toThrow(`SAM 2 config ${bad}: not valid YAML: Map keys must be unique at line 3, column 3`);
  });

  it('tells paths from size names', () => {
    for (const p of ['cfg.yaml', 'a.YML', 'meta.json', './t', 'C:\\cfg\\t', '/abs/x']) expect(isSam2ConfigPath(p)).toBe(true);
    for (const s of ['t', 'b+', 'large', 'sam2.1_hiera_t']) expect(isSam2ConfigPath(s)).toBe(false);
  });
});
