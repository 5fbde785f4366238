import { describe, expect, it } from 'vitest';
import { RunboxError } from '../../errors.ts';
import {
  allOk,
  apiServerCheck,
  controllerCheck,
  bindCommand,
  checkJson,
  checkLine,
  failedCall,
  inPlaceResizeCheck,
  permissionsCheck,
  storageClassCheck,
  storageClassWhere,
  type AccessAnswer,
} from './checks.ts';
import { RUNBOX_USER_RULES, permissionsOf } from './role.ts';

describe('apiServerCheck', () => {
  it('names the server and its version', () => {
    expect(checkLine(apiServerCheck('https://10.0.0.1:6443', { gitVersion: 'v1.34.4' }))).toBe(
      '✓ API server https://10.0.0.1:6443 (Kubernetes v1.34.4)',
    );
  });

  it('an unreachable server is a failure with the api-error message and hint', () => {
    const r = failedCall('api-server', new RunboxError('cannot reach the API server at https://x (ECONNREFUSED)', { hint: 'check it runs' }));
    expect(checkLine(r)).toBe('✗ cannot reach the API server at https://x (ECONNREFUSED) — check it runs');
    expect(allOk([r])).toBe(false);
  });
});

describe('inPlaceResizeCheck', () => {
  const discovery = (...names: string[]) => ({ resources: names.map((name) => ({ name })) });

  it('finds pods/resize in the core discovery', () => {
    expect(inPlaceResizeCheck(discovery('pods', 'pods/exec', 'pods/resize'))).toEqual({
      check: 'in-place-resize',
      level: 'pass',
      detail: 'in-place resize available (pods/resize)',
    });
  });

  it.each([
    ['no resize subresource', discovery('pods', 'pods/exec', 'pods/status')],
    ['a resource named like it elsewhere', discovery('pods', 'deployments/resize')],
    ['an empty document', {}],
    ['no document', undefined],
  ])('without it (%s) passes and says runbox replaces the pod', (_, doc) => {
    const r = inPlaceResizeCheck(doc);
    expect(r.level).toBe('pass');
    expect(r.detail).toBe(
      'in-place resize not available: runbox resizes by replacing the pod (Kubernetes < 1.33 or the InPlacePodVerticalScaling feature gate is off)',
    );
  });
});

describe('storageClassCheck', () => {
  const sc = (name: string, isDefault?: string, created = '2026-01-01T00:00:00Z', annotation = 'storageclass.kubernetes.io/is-default-class') => ({
    metadata: { name, creationTimestamp: created, ...(isDefault === undefined ? {} : { annotations: { [annotation]: isDefault } }) },
  });

  it.each([
    ['the one marked default', [sc('slow'), sc('hostpath', 'true')], '✓ default StorageClass hostpath'],
    ['the beta annotation too', [sc('old', 'true', undefined, 'storageclass.beta.kubernetes.io/is-default-class')], '✓ default StorageClass old'],
    [
      'the newest of several defaults, as Kubernetes does',
      [sc('a', 'true', '2026-01-01T00:00:00Z'), sc('b', 'true', '2026-03-01T00:00:00Z'), sc('c', 'true', '2026-02-01T00:00:00Z')],
      '✓ default StorageClass b (newest of 3 marked default)',
    ],
  ])('passes naming %s', (_, classes, line) => {
    expect(checkLine(storageClassCheck(classes))).toBe(line);
  });

  it.each([
    ['none at all', [], 'no default StorageClass'],
    ['none marked default', [sc('slow'), sc('fast', 'false')], 'no default StorageClass (there are: slow, fast)'],
  ])('fails with a hint when there is %s', (_, classes, detail) => {
    const r = storageClassCheck(classes);
    expect(r).toMatchObject({ check: 'storage-class', level: 'fail', detail });
    expect(r.hint).toMatch(/create one.*--storage-class \/ runbox config set storage-class NAME/);
  });

  it('checks the configured class instead of the default', () => {
    const where = storageClassWhere('cluster', 'team');
    expect(where).toBe('runbox-config of namespace runbox-system');
    expect(checkLine(storageClassCheck([sc('fast')], { name: 'fast', where }))).toBe('✓ StorageClass fast (set in runbox-config of namespace runbox-system)');
    const missing = storageClassCheck([sc('slow', 'true')], { name: 'fast', where: storageClassWhere('environment', 'team') });
    expect(missing).toMatchObject({ level: 'fail', detail: 'StorageClass fast (set in RUNBOX_STORAGE_CLASS) does not exist (there are: slow)' });
  });

  it('is a warning, not a failure, when the user may not list them', () => {
    const r = storageClassCheck('forbidden');
    expect(checkLine(r)).toBe('! cannot list StorageClasses with your permissions; not checked');
    expect(allOk([r])).toBe(true);
    expect(checkJson(r)).toEqual({ check: 'storage-class', ok: true, warning: true, detail: r.detail });
  });
});

describe('permissionsCheck', () => {
  const all = permissionsOf(RUNBOX_USER_RULES);
  const answers = (deny: string[]): AccessAnswer[] =>
    all.map((permission) => ({ permission, allowed: !deny.includes(`${permission.verb} ${permission.resource}`) }));

  it('one pass line when every verb is allowed', () => {
    expect(checkLine(permissionsCheck(answers([]), 'team', 'jane'))).toBe(`✓ permissions: all ${all.length} verbs runbox needs in namespace team`);
    expect(all.length).toBe(25);
  });

  it('names each missing verb and how to bind the role', () => {
    const r = permissionsCheck(answers(['get pods/exec', 'create pods/exec']), 'team', 'jane@example.com');
    expect(r.level).toBe('fail');
    expect(checkLine(r)).toBe(
      '✗ not allowed in namespace team: get pods/exec, create pods/exec — bind the runbox-user role: ' +
        'kubectl create rolebinding runbox-jane-example.com --clusterrole runbox-user --user jane@example.com -n team (see manifests/)',
    );
  });

  it('binds a service account as one', () => {
    expect(bindCommand('system:serviceaccount:ci:builder', 'team')).toBe(
      'kubectl create rolebinding runbox-builder --clusterrole runbox-user --serviceaccount ci:builder -n team',
    );
    expect(bindCommand('OIDC:Jane Doe', 'team')).toMatch(/^kubectl create rolebinding runbox-oidc-jane-doe .* --user OIDC:Jane Doe -n team$/);
  });
});

describe('output', () => {
  it('json keeps ok false for a failure and the hint', () => {
    expect(checkJson({ check: 'permissions', level: 'fail', detail: 'd', hint: 'h' })).toEqual({ check: 'permissions', ok: false, detail: 'd', hint: 'h' });
    expect(checkJson({ check: 'api-server', level: 'pass', detail: 'd' })).toEqual({ check: 'api-server', ok: true, detail: 'd' });
  });

  it('a pass never shows a hint; the run fails on any failure only', () => {
    expect(checkLine({ check: 'api-server', level: 'pass', detail: 'd', hint: 'h' })).toBe('✓ d');
    expect(allOk([{ check: 'api-server', level: 'pass', detail: '' }, { check: 'storage-class', level: 'warn', detail: '' }])).toBe(true);
  });
});

describe('controllerCheck', () => {
  const now = new Date('2026-11-23T10:00:30Z');
  it('passes while a leader renews its Lease', () => {
    expect(controllerCheck({ holderIdentity: 'rc-1', renewTime: '2026-11-23T10:00:25.000000Z', leaseDurationSeconds: 15 }, now)).toEqual({
      check: 'controller',
      level: 'pass',
      detail: 'idle controller running (leader rc-1, renewed 5 s ago)',
    });
  });
  it('warns, saying how to install it, when none runs or the Lease is stale', () => {
    expect(controllerCheck('absent', now)).toMatchObject({ level: 'warn', detail: expect.stringMatching(/^no idle controller runs/), hint: expect.stringContaining('kubectl apply -k manifests/') });
    expect(controllerCheck({ holderIdentity: '' }, now).level).toBe('warn');
    expect(controllerCheck({ holderIdentity: 'rc-1', renewTime: '2026-11-23T09:50:00Z', leaseDurationSeconds: 15 }, now)).toMatchObject({
      level: 'warn',
      detail: "the idle controller's Lease was last renewed 630 s ago (by rc-1): it is not running",
    });
    expect(controllerCheck('forbidden', now)).toMatchObject({ level: 'warn' });
  });
});
