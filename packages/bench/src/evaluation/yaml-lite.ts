/**
 * A reader for the subset of YAML that model config files use (SAM 2's Hydra configs and the
 * configs shipped with SAM 2-architecture checkpoints such as MedSAM2's): block mappings by
 * indentation, block sequences (`- item`), flow sequences and mappings (`[1, 2, 7, 2]`,
 * `{a: 1}`), plain / single- / double-quoted scalars, comments, `---`. Scalars follow YAML 1.2's
 * core schema (null / ~, true / false in any case, integers, floats, .inf, .nan); anything else
 * is a string (Hydra interpolations such as `${..x}` stay text). Anchors, aliases, tags and
 * multi-line block scalars are refused with the line number, as is anything malformed.
 */

/** A parsed YAML value. */
export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  /** 1-based line number. */
  no: number;
  indent: number;
  /** Content without indentation and comment. */
  text: string;
}

class YamlError extends Error {
  constructor(where: string, no: number, message: string) {
    super(`${where}:${no}: ${message}`);
    this.name = 'YamlError';
  }
}

/** Removes a comment (a `#` at the start or after whitespace, outside quotes). */
function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) {
        if (quote === "'" && s[i + 1] === "'") i++;
        else quote = null;
      } else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
  }
  return s;
}

/** A plain or quoted scalar's value. */
function scalar(raw: string, where: string, no: number): YamlValue {
  const s = raw.trim();
  if (s === '' || s === '~' || /^null$/i.test(s)) return null;
  if (/^(true|false)$/i.test(s)) return s.toLowerCase() === 'true';
  if (/^[-+]?(0|[1-9][0-9_]*)$/.test(s)) return Number(s.replace(/_/g, ''));
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s, 16);
  if (/^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/.test(s)) return Number(s.replace(/_/g, ''));
  if (/^[-+]?\.inf$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^\.nan$/i.test(s)) return NaN;
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new YamlError(where, no, `unterminated double-quoted string ${s}`);
    try {
      return JSON.parse(s) as string;
    } catch {
      throw new YamlError(where, no, `bad double-quoted string ${s}`);
    }
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new YamlError(where, no, `unterminated single-quoted string ${s}`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[&*!|>]/.test(s)) throw new YamlError(where, no, `unsupported YAML construct '${s}' (anchors, aliases, tags and block scalars are not read)`);
  return s;
}

/** Parses a flow collection (`[…]` / `{…}`) starting at text[pos]. */
function flow(text: string, where: string, no: number): YamlValue {
  let pos = 0;
  const ws = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const item = (): YamlValue => {
    ws();
    const c = text[pos];
    if (c === '[') {
      pos++;
      const out: YamlValue[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return out;
      }
      for (;;) {
        out.push(item());
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] === ']') {
          pos++;
          return out;
        } else throw new YamlError(where, no, `expected ',' or ']' in flow sequence at column ${pos + 1}`);
      }
    }
    if (c === '{') {
      pos++;
      const out: Record<string, YamlValue> = {};
      ws();
      if (text[pos] === '}') {
        pos++;
        return out;
      }
      for (;;) {
        ws();
        const start = pos;
        while (pos < text.length && text[pos] !== ':') pos++;
        const key = String(scalar(text.slice(start, pos), where, no));
        if (text[pos] !== ':') throw new YamlError(where, no, `expected ':' in flow mapping`);
        pos++;
        out[key] = item();
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] === '}') {
          pos++;
          return out;
        } else throw new YamlError(where, no, `expected ',' or '}' in flow mapping at column ${pos + 1}`);
      }
    }
    // A scalar up to the next ',', ']' or '}' (outside quotes).
    const start = pos;
    let quote: string | null = null;
    while (pos < text.length) {
      const ch = text[pos];
      if (quote) {
        if (ch === quote) quote = null;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === ',' || ch === ']' || ch === '}') break;
      pos++;
    }
    return scalar(text.slice(start, pos), where, no);
  };
  const v = item();
  ws();
  if (pos !== text.length) throw new YamlError(where, no, `unexpected text after a flow collection: '${text.slice(pos)}'`);
  return v;
}

/** The value written inline after `key:` or `- `. */
function inlineValue(s: string, where: string, no: number): YamlValue {
  const t = s.trim();
  return t.startsWith('[') || t.startsWith('{') ? flow(t, where, no) : scalar(t, where, no);
}

/** Splits `key: value` (the colon must be followed by a space or the end); null when not a mapping entry. */
function splitKey(text: string): { key: string; rest: string } | null {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ' || text[i + 1] === '\t')) {
      return { key: text.slice(0, i).trim(), rest: text.slice(i + 1) };
    } else if ((c === '[' || c === '{') && i === 0) return null;
  }
  return null;
}

/** Parses YAML text (see the module comment); `where` names the source in errors. */
export function parseYaml(text: string, where = 'yaml'): YamlValue {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\t/.test(raw)) throw new YamlError(where, i + 1, 'tabs are not allowed for indentation');
    const body = stripComment(raw).replace(/\s+$/, '');
    if (body.trim() === '' || body.trim() === '---' || body.trim() === '...') return;
    const indent = body.length - body.trimStart().length;
    lines.push({ no: i + 1, indent, text: body.trimStart() });
  });
  let pos = 0;

  const block = (indent: number): YamlValue => {
    const first = lines[pos];
    if (first.text.startsWith('- ') || first.text === '-') {
      const out: YamlValue[] = [];
      while (pos < lines.length && lines[pos].indent === indent && (lines[pos].text.startsWith('- ') || lines[pos].text === '-')) {
        const l = lines[pos];
        const rest = l.text.slice(1).trimStart();
        if (rest === '') {
          pos++;
          out.push(pos < lines.length && lines[pos].indent > indent ? block(lines[pos].indent) : null);
        } else if (splitKey(rest) && !rest.startsWith('[') && !rest.startsWith('{')) {
          // A mapping inside a sequence item: treat the item's text as a line indented past '- '.
          const itemIndent = indent + (l.text.length - rest.length);
          lines[pos] = { no: l.no, indent: itemIndent, text: rest };
          out.push(block(itemIndent));
        } else {
          pos++;
          out.push(inlineValue(rest, where, l.no));
        }
      }
      return out;
    }
    const out: Record<string, YamlValue> = {};
    while (pos < lines.length && lines[pos].indent === indent) {
      const l = lines[pos];
      if (l.text.startsWith('- ')) throw new YamlError(where, l.no, 'a sequence item where a mapping key was expected');
      const kv = splitKey(l.text);
      if (!kv) throw new YamlError(where, l.no, `expected 'key: value', got '${l.text}'`);
      const key = String(scalar(kv.key, where, l.no));
      if (key in out) throw new YamlError(where, l.no, `duplicate key '${key}'`);
      pos++;
      if (kv.rest.trim() !== '') out[key] = inlineValue(kv.rest, where, l.no);
      else if (pos < lines.length && lines[pos].indent > indent) out[key] = block(lines[pos].indent);
      else if (pos < lines.length && lines[pos].indent === indent && lines[pos].text.startsWith('- ')) out[key] = block(indent); // "key:\n- a" (same indent)
      else out[key] = null;
    }
    if (pos < lines.length && lines[pos].indent > indent) throw new YamlError(where, lines[pos].no, `unexpected indentation`);
    return out;
  };

  if (lines.length === 0) return null;
  const v = block(lines[0].indent);
  if (pos < lines.length) throw new YamlError(where, lines[pos].no, `unexpected indentation (less than the document's first line)`);
  return v;
}
