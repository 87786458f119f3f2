// The groups of the API documentation, in the order a reader meets them: the telephony API first (the
// reason people come), then what an administrator does, in the order they do it. A route joins a group
// with `schema: { tags: ['Webhooks'] }`; a slug ('webhooks', 'assigns', …) is accepted too and shown
// under its group's name. Groups without operations are left out of the document, so a surface that has
// not landed yet leaves no empty heading.

export interface Tag {
  readonly name: string;
  readonly description: string;
  /** Other spellings a route may use in `schema.tags` (compared lower-case). */
  readonly aliases: readonly string[];
}

export const TAGS: readonly Tag[] = [
  {
    name: 'Telephony',
    description: 'The legacy endpoints IVRs, dialers and voice bots call during a live call. Every answer is HTTP 200 with the JSON envelope; `code` says what happened.',
    aliases: ['telephony'],
  },
  { name: 'Setup', description: 'Projects and what sets one up: form fields, statuses, groups, sites, workers, repositories (lead lists), DIDs', aliases: ['setup', 'projects'] },
  { name: 'Customers', description: 'Create, read, update (all-or-nothing), list and search customers', aliases: ['customers'] },
  { name: 'Assigns & calls', description: 'Customers in repositories (assigns), their status, call events and change history', aliases: ['assigns', 'calls', 'history'] },
  { name: 'Import & export', description: 'Bulk load a repository (CSV, NDJSON) and export it', aliases: ['import', 'export', 'files'] },
  { name: 'Statistics', description: 'Counts and reports', aliases: ['statistics', 'stats', 'reports'] },
  { name: 'Webhooks', description: 'Notify other systems when data changes', aliases: ['webhooks'] },
  { name: 'Integrations', description: 'PBX and dialer integrations (3CX, VICIdial, Asterisk) and their per-project settings', aliases: ['integrations'] },
  { name: 'Users & keys', description: 'Console users, sessions and API keys', aliases: ['users', 'keys', 'sessions', 'auth', 'users & keys'] },
  { name: 'Lifecycle', description: 'Retention, erasure and archiving of customer data', aliases: ['lifecycle', 'retention', 'erasure'] },
  { name: 'Audit', description: 'Who changed what, through which surface', aliases: ['audit'] },
  { name: 'Operations', description: 'Probes and metrics for the operator', aliases: ['operations', 'probes', 'metrics'] },
];

const BY_SPELLING = new Map<string, string>(TAGS.flatMap((t) => [t.name, ...t.aliases].map((s) => [s.toLowerCase(), t.name] as const)));

/** The group name a route's tag stands for; a tag this file does not know is kept as written. */
export function tagName(tag: string): string {
  return BY_SPELLING.get(tag.toLowerCase()) ?? tag;
}

/** The document's tag list: the known groups in order, then unknown ones as first used; only groups in use. */
export function tagList(used: readonly string[]): { name: string; description?: string }[] {
  const inUse = new Set(used);
  const known = TAGS.filter((t) => inUse.has(t.name)).map(({ name, description }) => ({ name, description }));
  const unknown = [...inUse].filter((name) => !TAGS.some((t) => t.name === name)).map((name) => ({ name }));
  // Operations stays last even after groups this file does not know.
  const last = known.findIndex((t) => t.name === 'Operations');
  return last === -1 ? [...known, ...unknown] : [...known.slice(0, last), ...unknown, ...known.slice(last)];
}
