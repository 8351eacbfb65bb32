// Number and time formatting for people.

const sats = new Intl.NumberFormat('en-US');

export function formatSats(n: number | null | undefined): string {
  return n == null ? '—' : `${sats.format(n)} sat`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
