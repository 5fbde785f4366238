import { RunboxError } from '../src/errors.ts';

/*
 * A small Prometheus registry: counters, gauges and histograms rendered in
 * the text exposition format 0.0.4. Hand-written because prom-client would
 * be most of the controller bundle for a few dozen lines of output.
 */

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Gauge {
  set(value: number): void;
  set(labels: Labels, value: number): void;
  inc(labels?: Labels, by?: number): void;
  dec(labels?: Labels, by?: number): void;
}

export interface Histogram {
  observe(value: number): void;
  observe(labels: Labels, value: number): void;
}

/** One gauge series computed at scrape time. */
export interface GaugeSample {
  labels: Labels;
  value: number;
}

export interface Registry {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  /** With `collect`, every scrape shows exactly the series it returns, and set/inc/dec throw. */
  gauge(name: string, help: string, labelNames?: readonly string[], collect?: () => GaugeSample[]): Gauge;
  /** Upper bounds in ascending order; +Inf is added. */
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): Histogram;
  render(): string;
}

/** client_golang's default buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
export const escapeLabelValue = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A sample value as Prometheus writes it (Go's float formatting for the special values). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** `{a="x",b="y"}` in the declared label order, or nothing for no labels. */
function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  return `{${names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? '')}"`).join(',')}}`;
}

/** Every problem with a metric's declaration. */
export function declarationProblems(name: string, labelNames: readonly string[], reserved: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (!METRIC_NAME.test(name)) problems.push(`invalid metric name ${JSON.stringify(name)}`);
  for (const l of labelNames) {
    if (!LABEL_NAME.test(l) || l.startsWith('__')) problems.push(`invalid label name ${JSON.stringify(l)}`);
    if (reserved.includes(l)) problems.push(`label name ${JSON.stringify(l)} is reserved`);
  }
  if (new Set(labelNames).size !== labelNames.length) problems.push('duplicate label names');
  return problems;
}

/** The label values in declared order; the labels given must be exactly the declared ones. */
function valuesOf(metric: string, names: readonly string[], labels: Labels): string[] {
  const given = Object.keys(labels);
  if (given.length !== names.length || !names.every((n) => typeof labels[n] === 'string')) {
    throw new RunboxError(`metric ${metric} takes labels [${names.join(', ')}], got [${given.join(', ')}]`);
  }
  return names.map((n) => labels[n] as string);
}

interface Series<T> {
  get(labels: Labels): T;
  entries(): { values: string[]; state: T }[];
}

/** Series by label values, in the order they first appeared. */
function seriesOf<T>(metric: string, names: readonly string[], fresh: () => T): Series<T> {
  const byKey = new Map<string, { values: string[]; state: T }>();
  const series: Series<T> = {
    get(labels) {
      const values = valuesOf(metric, names, labels);
      const key = JSON.stringify(values);
      let entry = byKey.get(key);
      if (!entry) {
        entry = { values, state: fresh() };
        byKey.set(key, entry);
      }
      return entry.state;
    },
    entries: () => [...byKey.values()],
  };
  // An unlabelled metric has its one series from the start, so it is scraped as 0 before any use.
  if (names.length === 0) series.get({});
  return series;
}

interface Rendered {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  samples: () => string[];
}

/** Splits the (value) and (labels, value) call forms. */
const valueArgs = (a: Labels | number, b: number | undefined): [Labels, number] =>
  typeof a === 'number' ? [{}, a] : [a, b ?? NaN];

function checkedBuckets(name: string, buckets: readonly number[]): number[] {
  const bounds = buckets.filter((b) => b !== Infinity);
  if (bounds.length === 0 || bounds.some((b, i) => Number.isNaN(b) || (i > 0 && b <= bounds[i - 1]!))) {
    throw new RunboxError(`histogram ${name} needs strictly increasing bucket bounds, got [${buckets.join(', ')}]`);
  }
  return bounds;
}

export function createRegistry(): Registry {
  const metrics: Rendered[] = [];

  const declare = (m: Rendered, labelNames: readonly string[], reserved: readonly string[] = []) => {
    const problems = declarationProblems(m.name, labelNames, reserved);
    if (metrics.some((x) => x.name === m.name)) problems.push('already registered');
    if (problems.length) throw new RunboxError(`metric ${m.name}: ${problems.join('; ')}`);
    metrics.push(m);
  };

  const simpleSamples = (name: string, labelNames: readonly string[], samples: { values: readonly string[]; value: number }[]) =>
    samples.map((s) => `${name}${labelText(labelNames, s.values)} ${formatValue(s.value)}`);

  return {
    counter(name, help, labelNames = []) {
      const series = seriesOf(name, labelNames, () => ({ value: 0 }));
      declare(
        { name, type: 'counter', help, samples: () => simpleSamples(name, labelNames, series.entries().map((e) => ({ values: e.values, value: e.state.value }))) },
        labelNames,
      );
      return {
        inc(labels = {}, by = 1) {
          if (!(by >= 0)) throw new RunboxError(`counter ${name} can only go up (inc by ${by})`);
          series.get(labels).value += by;
        },
      };
    },

    gauge(name, help, labelNames = [], collect) {
      const series = collect ? undefined : seriesOf(name, labelNames, () => ({ value: 0 }));
      const current = (): { values: readonly string[]; value: number }[] =>
        series
          ? series.entries().map((e) => ({ values: e.values, value: e.state.value }))
          : (collect?.() ?? []).map((s) => ({ values: valuesOf(name, labelNames, s.labels), value: s.value }));
      declare({ name, type: 'gauge', help, samples: () => simpleSamples(name, labelNames, current()) }, labelNames);
      const state = (labels: Labels) => {
        if (!series) throw new RunboxError(`gauge ${name} is computed at scrape time; it cannot be set`);
        return series.get(labels);
      };
      return {
        set(a: Labels | number, b?: number) {
          const [labels, value] = valueArgs(a, b);
          state(labels).value = value;
        },
        inc(labels = {}, by = 1) {
          state(labels).value += by;
        },
        dec(labels = {}, by = 1) {
          state(labels).value -= by;
        },
      };
    },

    histogram(name, help, labelNames = [], buckets = DEFAULT_BUCKETS) {
      const bounds = checkedBuckets(name, buckets);
      // counts[i] is the observations in bucket i alone (the last one is +Inf); cumulated when rendered.
      const series = seriesOf(name, labelNames, () => ({ counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }));
      const les = [...bounds.map(formatValue), '+Inf'];
      const bucketNames = [...labelNames, 'le'];
      const samples = () =>
        series.entries().flatMap(({ values, state }) => {
          let cumulative = 0;
          const lines = state.counts.map((n, i) => {
            cumulative += n;
            return `${name}_bucket${labelText(bucketNames, [...values, les[i]!])} ${cumulative}`;
          });
          const labels = labelText(labelNames, values);
          return [...lines, `${name}_sum${labels} ${formatValue(state.sum)}`, `${name}_count${labels} ${state.count}`];
        });
      declare({ name, type: 'histogram', help, samples }, labelNames, ['le']);
      return {
        observe(a: Labels | number, b?: number) {
          const [labels, value] = valueArgs(a, b);
          if (Number.isNaN(value)) throw new RunboxError(`histogram ${name} cannot observe NaN`);
          const s = series.get(labels);
          const i = bounds.findIndex((bound) => value <= bound);
          s.counts[i === -1 ? bounds.length : i]!++;
          s.sum += value;
          s.count++;
        },
      };
    },

    render() {
      return metrics
        .map((m) => [`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`, ...m.samples()].join('\n') + '\n')
        .join('');
    },
  };
}

/** The samples of an exposition, by series (`name{labels}` as rendered): what a scraper reads, for tests and benchmarks. */
export function parseSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m && !line.startsWith('#')) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
