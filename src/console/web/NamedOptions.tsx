// The <option>s of a select of named rows (projects, repositories, statuses, workers...): value the id,
// text the name. One place, so every such select reads and behaves the same.
export function NamedOptions({ items }: { items: readonly { id: number; name: string }[] }) {
  return (
    <>
      {items.map((item) => (
        <option key={item.id} value={item.id}>
          {item.name}
        </option>
      ))}
    </>
  );
}
