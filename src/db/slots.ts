// Placeholders for run-time values in a statement built once (prepared.ts reads, compiled.ts writes): the
// builder takes slot(i) where a value goes, and the compiled statement binds the i-th value there.
export interface Slot {
  readonly slot: number;
}
const slots: Slot[] = Array.from({ length: 64 }, (_, i) => Object.freeze({ slot: i }));
/** The i-th run-time parameter, passed where the builder expects a value. */
export const slot = (i: number) => {
  const s = slots[i];
  // Past the end, undefined would make the builder drop the column without a word.
  if (s === undefined) throw new RangeError(`slot ${i} is out of range (0..${slots.length - 1})`);
  return s as unknown as never;
};
