import { describe, expect, it } from 'vitest';
import { createRegistry, declarationProblems, escapeHelp, escapeLabelValue, formatValue, parseSamples } from './metrics.ts';

describe('counter', () => {
  it('renders an unlabelled counter as 0 before use, then its total', () => {
    const r = createRegistry();
    const c = r.counter('runbox_reconciles_total', 'Reconciles run.');
    expect(r.render()).toBe('# HELP runbox_reconciles_total Reconciles run.\n# TYPE runbox_reconciles_total counter\nrunbox_reconciles_total 0\n');
    c.inc();
    c.inc({}, 2.5);
    expect(r.render()).toBe('# HELP runbox_reconciles_total Reconciles run.\n# TYPE runbox_reconciles_total counter\nrunbox_reconciles_total 3.5\n');
  });

  it('keeps one series per label set, labels in declared order, series in order of first use', () => {
    const r = createRegistry();
    const c = r.counter('runbox_errors_total', 'Errors.', ['kind', 'code']);
    expect(r.render()).toBe('# HELP runbox_errors_total Errors.\n# TYPE runbox_errors_total counter\n');
    c.inc({ kind: 'api', code: '500' });
    c.inc({ code: '409', kind: 'api' });
    c.inc({ kind: 'api', code: '500' }, 3);
    expect(r.render()).toBe(
      [
        '# HELP runbox_errors_total Errors.',
        '# TYPE runbox_errors_total counter',
        'runbox_errors_total{kind="api",code="500"} 4',
        'runbox_errors_total{kind="api",code="409"} 1',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslash, double quote and newline in label values', () => {
    const r = createRegistry();
    r.counter('x_total', 'X.', ['path']).inc({ path: 'C:\\dir\n"q"' });
    expect(r.render()).toBe('# HELP x_total X.\n# TYPE x_total counter\nx_total{path="C:\\\\dir\\n\\"q\\""} 1\n');
  });

  it('refuses to go down or to take other labels than declared', () => {
    const r = createRegistry();
    const c = r.counter('y_total', 'Y.', ['a']);
    expect(() => c.inc({ a: 'x' }, -1)).toThrow('counter y_total can only go up (inc by -1)');
    expect(() => c.inc({ a: 'x' }, NaN)).toThrow('can only go up');
    expect(() => c.inc({})).toThrow('metric y_total takes labels [a], got []');
    expect(() => c.inc({ a: 'x', b: 'y' })).toThrow('metric y_total takes labels [a], got [a, b]');
    expect(() => c.inc({ b: 'y' })).toThrow('got [b]');
  });
});

describe('gauge', () => {
  it('sets, increments and decrements', () => {
    const r = createRegistry();
    const g = r.gauge('runbox_envs', 'Environments by phase.', ['phase']);
    g.set({ phase: 'running' }, 3);
    g.inc({ phase: 'running' });
    g.dec({ phase: 'sleeping' }, 2);
    expect(r.render()).toBe(
      [
        '# HELP runbox_envs Environments by phase.',
        '# TYPE runbox_envs gauge',
        'runbox_envs{phase="running"} 4',
        'runbox_envs{phase="sleeping"} -2',
        '',
      ].join('\n'),
    );
  });

  it('takes a bare value when unlabelled, including the special values', () => {
    const r = createRegistry();
    const g = r.gauge('up', 'Up.');
    g.set(1);
    expect(r.render()).toBe('# HELP up Up.\n# TYPE up gauge\nup 1\n');
    g.set(Infinity);
    expect(r.render()).toBe('# HELP up Up.\n# TYPE up gauge\nup +Inf\n');
    g.inc();
    g.set(NaN);
    expect(r.render()).toBe('# HELP up Up.\n# TYPE up gauge\nup NaN\n');
  });

  it('computes its series at each scrape with collect, and cannot be set then', () => {
    const r = createRegistry();
    let leading = true;
    const g = r.gauge('runbox_leader', 'Whether this replica leads.', ['identity'], () => [{ labels: { identity: 'pod-a' }, value: leading ? 1 : 0 }]);
    expect(r.render()).toBe('# HELP runbox_leader Whether this replica leads.\n# TYPE runbox_leader gauge\nrunbox_leader{identity="pod-a"} 1\n');
    leading = false;
    expect(r.render()).toBe('# HELP runbox_leader Whether this replica leads.\n# TYPE runbox_leader gauge\nrunbox_leader{identity="pod-a"} 0\n');
    expect(() => g.set({ identity: 'pod-a' }, 1)).toThrow('gauge runbox_leader is computed at scrape time; it cannot be set');
  });

  it('drops series that collect no longer returns', () => {
    const r = createRegistry();
    let phases: Record<string, number> = { running: 2, sleeping: 1 };
    r.gauge('envs', 'Envs.', ['phase'], () => Object.entries(phases).map(([phase, value]) => ({ labels: { phase }, value })));
    phases = { running: 3 };
    expect(r.render()).toBe('# HELP envs Envs.\n# TYPE envs gauge\nenvs{phase="running"} 3\n');
  });

  it('checks collected labels too', () => {
    const r = createRegistry();
    r.gauge('bad', 'Bad.', ['a'], () => [{ labels: { b: 'x' }, value: 1 }]);
    expect(() => r.render()).toThrow('metric bad takes labels [a], got [b]');
  });
});

describe('histogram', () => {
  it('renders cumulative buckets up to +Inf, the sum and the count', () => {
    const r = createRegistry();
    const h = r.histogram('runbox_reconcile_seconds', 'Reconcile duration.', ['result'], [0.1, 0.5, 1]);
    h.observe({ result: 'ok' }, 0.05);
    h.observe({ result: 'ok' }, 0.1); // le is inclusive
    h.observe({ result: 'ok' }, 0.75);
    h.observe({ result: 'ok' }, 3);
    h.observe({ result: 'error' }, 0.5);
    expect(r.render()).toBe(
      [
        '# HELP runbox_reconcile_seconds Reconcile duration.',
        '# TYPE runbox_reconcile_seconds histogram',
        'runbox_reconcile_seconds_bucket{result="ok",le="0.1"} 2',
        'runbox_reconcile_seconds_bucket{result="ok",le="0.5"} 2',
        'runbox_reconcile_seconds_bucket{result="ok",le="1"} 3',
        'runbox_reconcile_seconds_bucket{result="ok",le="+Inf"} 4',
        'runbox_reconcile_seconds_sum{result="ok"} 3.9',
        'runbox_reconcile_seconds_count{result="ok"} 4',
        'runbox_reconcile_seconds_bucket{result="error",le="0.1"} 0',
        'runbox_reconcile_seconds_bucket{result="error",le="0.5"} 1',
        'runbox_reconcile_seconds_bucket{result="error",le="1"} 1',
        'runbox_reconcile_seconds_bucket{result="error",le="+Inf"} 1',
        'runbox_reconcile_seconds_sum{result="error"} 0.5',
        'runbox_reconcile_seconds_count{result="error"} 1',
        '',
      ].join('\n'),
    );
  });

  it('renders an unlabelled histogram with zeros before use, default buckets', () => {
    const r = createRegistry();
    const h = r.histogram('wait_seconds', 'Wait.');
    const zero = r.render();
    expect(zero).toContain('wait_seconds_bucket{le="0.005"} 0\n');
    expect(zero).toContain('wait_seconds_bucket{le="10"} 0\nwait_seconds_bucket{le="+Inf"} 0\nwait_seconds_sum 0\nwait_seconds_count 0\n');
    h.observe(20);
    expect(r.render()).toContain('wait_seconds_bucket{le="10"} 0\nwait_seconds_bucket{le="+Inf"} 1\nwait_seconds_sum 20\nwait_seconds_count 1\n');
  });

  it('takes +Inf among the buckets without doubling it', () => {
    const r = createRegistry();
    r.histogram('h', 'H.', [], [1, Infinity]).observe(2);
    expect(r.render()).toBe('# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="+Inf"} 1\nh_sum 2\nh_count 1\n');
  });

  it('refuses unordered buckets, an le label and NaN', () => {
    const r = createRegistry();
    expect(() => r.histogram('h1', 'H.', [], [1, 1])).toThrow('histogram h1 needs strictly increasing bucket bounds, got [1, 1]');
    expect(() => r.histogram('h2', 'H.', [], [2, 1])).toThrow('strictly increasing');
    expect(() => r.histogram('h3', 'H.', [], [])).toThrow('strictly increasing');
    expect(() => r.histogram('h4', 'H.', ['le'])).toThrow('metric h4: label name "le" is reserved');
    expect(() => r.histogram('h5', 'H.').observe(NaN)).toThrow('histogram h5 cannot observe NaN');
  });
});

describe('registry', () => {
  it('renders metrics in registration order and escapes help text', () => {
    const r = createRegistry();
    r.gauge('b', 'Second\nline with a \\ "quote".');
    r.counter('a_total', 'First.');
    expect(r.render()).toBe(
      ['# HELP b Second\\nline with a \\\\ "quote".', '# TYPE b gauge', 'b 0', '# HELP a_total First.', '# TYPE a_total counter', 'a_total 0', ''].join('\n'),
    );
  });

  it('renders nothing when empty', () => {
    expect(createRegistry().render()).toBe('');
  });

  it('refuses a name twice and bad names', () => {
    const r = createRegistry();
    r.counter('dup_total', 'D.');
    expect(() => r.gauge('dup_total', 'D.')).toThrow('metric dup_total: already registered');
    expect(() => r.counter('9lives', 'N.', ['ok', '__x', 'bad-name', 'ok'])).toThrow(
      'metric 9lives: invalid metric name "9lives"; invalid label name "__x"; invalid label name "bad-name"; duplicate label names',
    );
  });
});

describe('formatting helpers', () => {
  it.each([
    [1, '1'],
    [0.25, '0.25'],
    [-3, '-3'],
    [1e21, '1e+21'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('formatValue(%s) = %s', (v, want) => {
    expect(formatValue(v)).toBe(want);
  });

  it('escapes label values and help text differently', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });

  it('lists every declaration problem', () => {
    expect(declarationProblems('ok:name_1', ['a', '_b'])).toEqual([]);
    expect(declarationProblems('x', ['le'], ['le'])).toEqual(['label name "le" is reserved']);
  });
});

describe('parseSamples', () => {
  it('reads back what render wrote, series by series, comments left out', () => {
    const r = createRegistry();
    r.counter('jobs_total', 'Jobs.', ['kind']).inc({ kind: 'a' }, 3);
    r.gauge('up', 'Up.').set(1);
    expect([...parseSamples(r.render())]).toEqual([
      ['jobs_total{kind="a"}', 3],
      ['up', 1],
    ]);
  });
});
