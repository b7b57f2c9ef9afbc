/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): what a scraper would
 * read, so that tests assert on values, not on strings. Anything a scraper would reject — a sample
 * of an undeclared family, a malformed name, label or value, a label repeated, an escape that is
 * not one of the three — is an error that names the line.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** The suffixes a family's samples may add to its name, by type. */
const SUFFIXES: Record<MetricType, string[]> = {
  counter: ['', '_total'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
  untyped: [''],
};

/** A sample value as Prometheus reads it (Go's strconv.ParseFloat: Inf and NaN in any case). */
function parseValue(raw: string, line: number): number {
  if (/^\+?inf(inity)?$/i.test(raw)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(raw)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(raw)) return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`line ${line}: bad value ${raw}`);
  return Number(raw);
}

/** Reads `{a="x",b="y"}` from `text` at `start` (the `{`); returns the labels and where they end. */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const fail = (why: string): never => {
    throw new Error(`line ${line}: ${why} in ${JSON.stringify(text)}`);
  };
  while (text[i] !== '}') {
    const eq = text.indexOf('=', i);
    if (eq < 0) fail('a label without =');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`label ${name} repeated`);
    if (text[eq + 1] !== '"') fail('a label value not quoted');
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) fail('an unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const e = text[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else fail(`bad escape \\${e}`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail('labels not separated by ,');
  }
  return { labels, end: i + 1 };
}

/** Every metric family in `text`, by name. */
export function parsePrometheus(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const family = (name: string) => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  /** The family a sample named `name` belongs to: the declared one whose name and suffix make it. */
  const owner = (name: string, line: number) => {
    for (const f of families.values()) if (SUFFIXES[f.type].some((suffix) => f.name + suffix === name)) return f;
    throw new Error(`line ${line}: sample ${name} of no declared family`);
  };
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition does not end with a line feed');
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text === '') return;
    if (text.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(text);
      if (!m) return; // a comment
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      const f = family(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest as MetricType)) throw new Error(`line ${line}: bad type ${rest}`);
        if (f.samples.length > 0) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
        f.type = rest as MetricType;
      } else {
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      return;
    }
    const nameEnd = text.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`line ${line}: not a sample: ${JSON.stringify(text)}`);
    const name = text.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
    let labels: Record<string, string> = {};
    let rest = nameEnd;
    if (text[nameEnd] === '{') ({ labels, end: rest } = parseLabels(text, nameEnd, line));
    const fields = text.slice(rest).trim().split(' ');
    if (text[rest] !== ' ' || fields.length < 1 || fields.length > 2)
      throw new Error(`line ${line}: not a sample: ${JSON.stringify(text)}`);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`line ${line}: bad timestamp`);
    owner(name, line).samples.push({ name, labels, value: parseValue(fields[0]!, line) });
  });
  return families;
}

const matches = (sample: Sample, labels: Record<string, string>) =>
  Object.entries(labels).every(([k, v]) => sample.labels[k] === v);

/** The one sample named `name` whose labels include `labels`; throws if none or several. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}) {
  const found = [...families.values()].flatMap((f) => f.samples).filter((s) => s.name === name && matches(s, labels));
  if (found.length !== 1)
    throw new Error(`expected one sample ${name} ${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
}

/** `sampleValue`, or 0 when there is no such sample yet (a labelled series not yet seen). */
export function sampleValueOrZero(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = [...families.values()].flatMap((f) => f.samples).filter((s) => s.name === name && matches(s, labels));
  if (found.length > 1) throw new Error(`expected at most one sample ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}
