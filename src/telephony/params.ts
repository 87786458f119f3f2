// One small reader for the legacy endpoints' parameters: query string and body merged, a body value
// winning over a query value of the same name, the last of repeated names winning — as PHP's $_REQUEST.
// A Map, never a plain object: a parameter named __proto__ or constructor is just a name here.

export class Params {
  private readonly values = new Map<string, string>();
  /** Names whose value was not a scalar (a JSON object or array); they count as present but unusable. */
  readonly malformed = new Set<string>();

  set(name: string, value: string) {
    this.values.set(name, value);
    this.malformed.delete(name);
  }

  setMalformed(name: string) {
    this.values.set(name, '');
    this.malformed.add(name);
  }

  /** The trimmed value, or undefined when absent or empty: an empty reserved parameter counts as missing. */
  get(name: string): string | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    const t = v.trim();
    return t === '' ? undefined : t;
  }

  /** The raw value, present even when empty (an empty form field in set_data clears it). */
  raw(name: string): string | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Parameter names in the order they first appeared. */
  names(): string[] {
    return [...this.values.keys()];
  }
}

/** A JSON body: an object whose scalar values are parameters. */
export function addJsonObject(p: Params, body: Record<string, unknown>) {
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') p.set(k, v);
    else if (typeof v === 'number' || typeof v === 'boolean') p.set(k, String(v));
    else if (v === null) p.set(k, '');
    else p.setMalformed(k);
  }
}

/** Ids are read by the one id parser of the code base (src/ids.ts). */
export { parseId } from '../ids.ts';
