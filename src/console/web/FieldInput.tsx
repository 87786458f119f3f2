// One customer field with a label and an editor by its type; the API's message under it when refused.
import type { Field } from './api.ts';
import { useT } from './i18n.ts';

export function FieldInput({ field, value, error, onChange, idPrefix }: { field: Field; value: string; error?: string; onChange: (v: string) => void; idPrefix: string }) {
  const { t } = useT();
  const id = `${idPrefix}-${field.display_name}`;
  const errId = `${id}-error`;
  const common = {
    id,
    name: field.display_name,
    value,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errId : undefined,
    required: field.required,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => onChange(e.target.value),
  };
  let editor: React.ReactNode;
  switch (field.type) {
    case 'select':
      editor = (
        <select {...common}>
          <option value="">{t.none}</option>
          {(field.options ?? []).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
          {value && !(field.options ?? []).includes(value) && <option value={value}>{value}</option>}
        </select>
      );
      break;
    case 'phone':
      editor = (
        <span className="row">
          <input {...common} type="tel" dir="ltr" autoComplete="off" />
          {value.trim() && (
            <a className="tel" href={`tel:${value.replace(/[^\d+]/g, '')}`} aria-label={`${t.call} ${value}`}>
              {t.call}
            </a>
          )}
        </span>
      );
      break;
    case 'email':
      editor = <input {...common} type="email" dir="ltr" autoComplete="off" />;
      break;
    case 'date':
      editor = <input {...common} type="date" />;
      break;
    case 'number':
      editor = <input {...common} type="text" inputMode="decimal" dir="ltr" />;
      break;
    default:
      editor = <input {...common} type="text" dir="auto" />;
  }
  return (
    <div className="field">
      <label htmlFor={id}>
        {field.label || field.display_name}
        {field.required && <span aria-hidden="true"> *</span>}
      </label>
      {editor}
      {error && (
        <p className="error" id={errId}>
          {error}
        </p>
      )}
    </div>
  );
}
