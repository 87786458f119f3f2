// The header row of the console's lists: one column header per name, and, for a column of row buttons,
// a header that only screen readers read (the buttons' column still has a name).
import type { ReactNode } from 'react';

export function ListHead({ columns, action }: { columns: ReactNode[]; action?: string }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) => (
          <th key={i} scope="col">
            {c}
          </th>
        ))}
        {action !== undefined && (
          <th scope="col">
            <span className="visually-hidden">{action}</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
