/**
 * One policy for the schema version a run store records (a SQLite run's
 * `meta.version`, a PostgreSQL store's `schema_version`): the version this
 * optevo writes is used as it is; an older one is used after a writer
 * migrates it forward; a newer one is refused with one line saying to
 * upgrade optevo (an older optevo never guesses at a newer layout); anything
 * else is not a version at all.
 */
import { OPTEVO_VERSION } from './version.js';

export type SchemaVerdict = { kind: 'current' } | { kind: 'older' } | { kind: 'refused'; why: string };

/** What a store at `where` with schema version `found` is to this optevo, which writes version `writes`. */
export function schemaVerdict(found: unknown, writes: number, where: string): SchemaVerdict {
  if (typeof found !== 'number' || !Number.isInteger(found) || found < 1)
    return { kind: 'refused', why: `${where} records no schema version optevo knows (${JSON.stringify(found) ?? 'none'})` };
  if (found > writes)
    return { kind: 'refused', why: `${where} has schema version ${found}, newer than this optevo ${OPTEVO_VERSION} reads (${writes}): upgrade optevo on this machine` };
  return found < writes ? { kind: 'older' } : { kind: 'current' };
}
