import type { EnvSummary } from '../env/inspect/status.ts';

/** kubectl's short ages: 42s, 5m, 3h, 12d. */
export function shortAge(from: string | undefined, now: Date): string {
  if (!from) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - new Date(from).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function envTable(envs: EnvSummary[], now: Date, wide: { namespace: boolean; owner: boolean }): string {
  const header = [
    ...(wide.namespace ? ['NAMESPACE'] : []), 'NAME', 'STATE', 'IMAGE', 'ALLOCATION', 'LAST ACTIVITY', 'AGE',
    ...(wide.owner ? ['OWNER'] : []),
  ];
  const rows = envs.map((e) => [
    ...(wide.namespace ? [e.namespace] : []),
    e.name,
    e.state,
    e.image,
    String(e.allocation),
    e.lastActivity ? `${shortAge(e.lastActivity, now)} ago` : '-',
    shortAge(e.created, now),
    ...(wide.owner ? [e.owner] : []),
  ]);
  return table([header, ...rows]);
}
