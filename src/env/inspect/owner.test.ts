import { describe, expect, it } from 'vitest';
import { ownerLabel } from './owner.ts';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('ownerLabel', () => {
  it('keeps a name that is already a label value', () => {
    expect(ownerLabel('kubernetes-admin')).toBe('kubernetes-admin');
  });

  it.each(['system:serviceaccount:team:ci', 'jane@example.com', `${'x'.repeat(80)}`, ':::', 'a b'])(
    'makes a valid, distinct label of %s',
    (user) => {
      const label = ownerLabel(user);
      expect(label).toMatch(LABEL_VALUE);
      expect(label.length).toBeLessThanOrEqual(63);
      expect(label).not.toBe(ownerLabel(`${user}x`));
    },
  );

  it('keeps two users apart whose names clean up the same', () => {
    expect(ownerLabel('jane@example.com')).not.toBe(ownerLabel('jane_example.com'));
  });
});
