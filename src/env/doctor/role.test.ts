import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { RUNBOX_USER_ROLE, RUNBOX_USER_RULES, permissionText, permissionsOf, resourceAttributes, type RoleRule } from './role.ts';

const manifest = load(readFileSync(new URL('../../../manifests/user-role.yaml', import.meta.url), 'utf8')) as {
  kind: string;
  metadata: { name: string };
  rules: RoleRule[];
};

const key = (p: { verb: string; group: string; resource: string }) => `${p.group}|${p.resource}|${p.verb}`;

describe('the runbox-user rules', () => {
  it('are the ones manifests/user-role.yaml grants, verb for verb', () => {
    expect(manifest.kind).toBe('ClusterRole');
    expect(manifest.metadata.name).toBe(RUNBOX_USER_ROLE);
    expect(permissionsOf(RUNBOX_USER_RULES).map(key).sort()).toEqual(permissionsOf(manifest.rules).map(key).sort());
  });

  it('name each verb once', () => {
    const keys = permissionsOf(RUNBOX_USER_RULES).map(key);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('permissionsOf', () => {
  it('flattens groups, resources and verbs in order', () => {
    expect(permissionsOf([{ apiGroups: ['', 'apps'], resources: ['a', 'b/c'], verbs: ['get', 'list'] }]).map(permissionText)).toEqual([
      'get a', 'list a', 'get b/c', 'list b/c', 'get a', 'list a', 'get b/c', 'list b/c',
    ]);
  });
});

describe('resourceAttributes', () => {
  it('splits a subresource off', () => {
    expect(resourceAttributes({ verb: 'create', group: '', resource: 'pods/exec' }, 'team')).toEqual({
      namespace: 'team', verb: 'create', group: '', resource: 'pods', subresource: 'exec',
    });
    expect(resourceAttributes({ verb: 'get', group: 'apps', resource: 'deployments' }, 'team')).toEqual({
      namespace: 'team', verb: 'get', group: 'apps', resource: 'deployments',
    });
  });
});
