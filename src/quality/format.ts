/** Short texts for flag details. */

export function summarise(items: string[]): string {
  return items.length <= 3 ? items.join('; ') : `${items.slice(0, 3).join('; ')}; +${items.length - 3} more`;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function fmtMs(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${round1(ms / 3_600_000)} h`;
}
