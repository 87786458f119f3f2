// Placeholders for run-time values in a statement built once (prepared.ts reads, compiled.ts writes): the
// builder takes slot(i) where a value goes, and the compiled statement binds the i-th value there.
interface Slot {
  readonly slot: number;
}
/** Enough for a multi-row INSERT of a few hundred rows (compiled.ts compileRowsInsert). */
export const MAX_SLOTS = 8192;
const slots: Slot[] = [];
/** The i-th run-time parameter, passed where the builder expects a value. */
export const slot = (i: number) => {
  // Past the end, undefined would make the builder drop the column without a word.
  if (!Number.isInteger(i) || i < 0 || i >= MAX_SLOTS) throw new RangeError(`slot ${i} is out of range (0..${MAX_SLOTS - 1})`);
  return (slots[i] ??= Object.freeze({ slot: i })) as unknown as never;
};

/**
 * The values of a compiled statement's parameters, in order: a slot's from the run-time values, a
 * constant as it was compiled in. A missing run-time value would be bound as NULL without a word, so a
 * caller's slip fails loudly instead.
 */
export function slotBinder(parameters: readonly unknown[], sql: string): (params: readonly unknown[]) => unknown[] {
  const sources = parameters.map((p) => (p !== null && typeof p === 'object' && 'slot' in p ? (p as Slot).slot : { value: p }));
  const needed = Math.max(-1, ...sources.map((s) => (typeof s === 'number' ? s : -1))) + 1;
  return (params) => {
    if (params.length < needed) throw new RangeError(`statement needs ${needed} values, got ${params.length}: ${sql.slice(0, 80)}`);
    return sources.map((s) => (typeof s === 'number' ? params[s] : s.value));
  };
}
