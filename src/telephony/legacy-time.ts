// Legacy date-times: `YYYY-MM-DD HH:MM:SS` in the configured time zone, as the PHP/MySQL stack printed them.
const formatters = new Map<string, Intl.DateTimeFormat>();

export function legacyDateTime(ms: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // sv-SE formats as 2026-11-27 10:14:31.
    f = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f.format(ms);
}
