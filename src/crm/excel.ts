// exceljs, loaded on first use: a server that never reads or writes a spreadsheet does not pay for it.
// Loading it at start-up cost ~27 MB of resident memory (the module alone: 41 -> 68 MB RSS), a fifth
// of a freshly started server's.
import type ExcelJS from 'exceljs';

type Excel = typeof ExcelJS;
let loading: Promise<Excel> | undefined;

export function loadExcel(): Promise<Excel> {
  // A CommonJS module: its exports are the default export of the dynamic import.
  // A failed load (EMFILE, say) is not remembered: the next spreadsheet tries again.
  return (loading ??= import('exceljs').then(
    (m) => (m as { default?: Excel }).default ?? (m as unknown as Excel),
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  ));
}
