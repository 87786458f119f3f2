// limit/cursor of the admin API's lists. Cursors are opaque to clients; a cursor this API did not give
// (or gave for another list) is a 400.
import { invalid } from '../errors.ts';
import type { PageQueryT } from './schemas.ts';
import { decodeCursor, decodeKeyCursor } from './wire.ts';

export const DEFAULT_LIMIT = 50;

const badCursor = () => invalid('cursor is not a cursor this API gave for this list', { cursor: 'invalid' });

/** A page of a list in id order: the limit and the last id of the previous page. */
export function pageOf(query: PageQueryT) {
  const after = decodeCursor(query.cursor);
  if (after === null) throw badCursor();
  return { limit: query.limit ?? DEFAULT_LIMIT, after };
}

/** A page of a list ordered by a composite key (see wire.encodeKeyCursor). */
export function keyPageOf(query: PageQueryT, tag: string, size: number) {
  const after = decodeKeyCursor(tag, size, query.cursor);
  if (after === null) throw badCursor();
  return { limit: query.limit ?? DEFAULT_LIMIT, after };
}
