// Local calendar days in CRM_TIMEZONE, for statistics that count "today" and "per day" as a call center
// does (its own midnight, not UTC's).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock parts of instant `ms` in the zone. */
export function localParts(ms: number, timeZone: string) {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second! };
}

/** The zone's offset from UTC at instant `ms`, in ms (Israel in summer: +3 h). */
function offsetAt(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant of local midnight starting the day `daysAgo` days before the local day of `now`. */
export function localDayStart(now: number, timeZone: string, daysAgo = 0): number {
  const p = localParts(now, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day - daysAgo);
  // Two passes: the offset at midnight can differ from the offset now (a DST change during the day).
  const guess = wall - offsetAt(now, timeZone);
  return wall - offsetAt(guess, timeZone);
}

/** YYYY-MM-DD of instant `ms` in the zone. */
export function localDate(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}
