/**
 * Cataract-1k's classes (Ghamsarian et al., "Cataract-1K Dataset for Deep-Learning-Assisted
 * Analysis of Cataract Surgery Videos", Scientific Data 11, 2024): the 10 instrument classes
 * with the abbreviations of the RP-SAM2 paper's Table 1, in its column order, and the anatomy
 * classes, which are loaded but are not instruments.
 *
 * Class titles are matched robustly: case, spaces, hyphens, slashes and underscores do not
 * matter ("phacoemulsification-tip", "Phacoemulsification Tip"), and the names used in the
 * dataset authors' own scripts are aliases ('rhexis' = cystotome, 'cartridge' = lens injector,
 * 'IA', 'phaco tip', 'lense'). Anything else is an unknown class, reported by the loader.
 */

/** Kind of an annotated object ('other': CaDIS's hand, tape, retractors). */
export type ObjectKind = 'instrument' | 'anatomy' | 'other';

/** One class. */
export interface ClassInfo {
  /** Short key: the paper's abbreviation for instruments ('CC', 'PhT', …), a lowercase name for anatomy. */
  key: string;
  /** The dataset's class title. */
  name: string;
  kind: ObjectKind;
}

interface ClassEntry extends ClassInfo {
  aliases: readonly string[];
}

const ENTRIES: readonly ClassEntry[] = [
  { key: 'CC', name: 'Capsulorhexis Cystotome', kind: 'instrument', aliases: ['cystotome', 'rhexis', 'capsulorhexis cystotom'] },
  { key: 'CF', name: 'Capsulorhexis Forceps', kind: 'instrument', aliases: ['rhexis forceps', 'capsulorrhexis forceps'] },
  { key: 'G', name: 'Gauge', kind: 'instrument', aliases: ['gage'] },
  { key: 'IA', name: 'Irrigation-Aspiration', kind: 'instrument', aliases: ['ia', 'i a', 'irrigation aspiration handpiece', 'irrigation and aspiration'] },
  { key: 'IK', name: 'Incision Knife', kind: 'instrument', aliases: [] },
  { key: 'KF', name: 'Katena Forceps', kind: 'instrument', aliases: [] },
  { key: 'LI', name: 'Lens Injector', kind: 'instrument', aliases: ['cartridge', 'lens cartridge', 'injector'] },
  { key: 'PhT', name: 'Phacoemulsification Tip', kind: 'instrument', aliases: ['phaco tip', 'phacoemulsifier tip', 'phaco'] },
  { key: 'SK', name: 'Slit Knife', kind: 'instrument', aliases: [] },
  { key: 'S', name: 'Spatula', kind: 'instrument', aliases: [] },
  { key: 'pupil', name: 'Pupil', kind: 'anatomy', aliases: [] },
  { key: 'iris', name: 'Iris', kind: 'anatomy', aliases: [] },
  { key: 'cornea', name: 'Cornea', kind: 'anatomy', aliases: [] },
  { key: 'lens', name: 'Lens', kind: 'anatomy', aliases: ['lense'] },
];

/** The 10 instrument classes in Table 1's order. */
export const CATARACT1K_INSTRUMENTS: readonly ClassInfo[] = ENTRIES.filter((e) => e.kind === 'instrument').map(({ key, name, kind }) => ({ key, name, kind }));

/** The anatomy classes (not instruments; not evaluated by the protocol). */
export const CATARACT1K_ANATOMY: readonly ClassInfo[] = ENTRIES.filter((e) => e.kind === 'anatomy').map(({ key, name, kind }) => ({ key, name, kind }));

/** Instrument keys in Table 1's order. */
export const INSTRUMENT_KEYS: readonly string[] = CATARACT1K_INSTRUMENTS.map((c) => c.key);

/** Lowercase, with runs of spaces, hyphens, slashes, underscores and dots as one space. */
export function normalizeClassTitle(title: string): string {
  return title
    .toLowerCase()
    .replace(/[\s\-_/.]+/g, ' ')
    .trim();
}

const LOOKUP = (() => {
  const m = new Map<string, ClassInfo>();
  for (const e of ENTRIES) {
    const info: ClassInfo = { key: e.key, name: e.name, kind: e.kind };
    for (const form of [e.name, e.key, ...e.aliases]) {
      const n = normalizeClassTitle(form);
      m.set(n, info);
      m.set(n.replace(/ /g, ''), info);
    }
  }
  return m;
})();

/** The class of a title (robust to case and separators), or undefined when unknown. */
export function resolveCataract1kClass(title: string): ClassInfo | undefined {
  const n = normalizeClassTitle(title);
  return LOOKUP.get(n) ?? LOOKUP.get(n.replace(/ /g, ''));
}

/** The class for a key ('CC', 'pupil', …). */
export function cataract1kClassByKey(key: string): ClassInfo | undefined {
  return ENTRIES.find((e) => e.key === key);
}
