// Placeholders for run-time values in a statement built once (prepared.ts reads, compiled.ts writes): the
// builder takes slot(i) where a value goes, and the compiled statement binds the i-th value there.
export interface Slot {
  readonly slot: number;
}
const slots: Slot[] = Array.from({ length: 64 }, (_, i) => Object.freeze({ slot: i }));
/** The i-th run-time parameter, passed where the builder expects a value. */
export const slot = (i: number) => slots[i] as unknown as never;
