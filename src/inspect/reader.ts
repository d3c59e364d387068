/**
 * What `show` and `export --program` read of a run: the SQLite store's read
 * methods, which the PostgreSQL view (pg-view.ts) answers too.
 */
import type { SqliteRunStore as RunStore } from '../../search/store.js';

export type RunReader = Pick<RunStore, 'info' | 'config' | 'seeds' | 'counters' | 'stats' | 'child' | 'children' | 'leaderboard' | 'lineage' | 'metavalResults' | 'families' | 'calibration'>;
