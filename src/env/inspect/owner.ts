import { createHash } from 'node:crypto';

/**
 * A Kubernetes user name (e.g. `system:serviceaccount:ns:sa`, `jane@example.com`)
 * as a label value: at most 63 characters of [A-Za-z0-9._-], starting and
 * ending alphanumeric. A name that had to change gets a short hash so that two
 * users never share a label; the full name is kept in an annotation.
 */
export function ownerLabel(user: string): string {
  const cleaned = user.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (cleaned === user && user.length > 0 && user.length <= 63) return user;
  const hash = createHash('sha256').update(user).digest('hex').slice(0, 8);
  const stem = cleaned.slice(0, 63 - hash.length - 1).replace(/[^A-Za-z0-9]+$/, '');
  return stem ? `${stem}-${hash}` : hash;
}
