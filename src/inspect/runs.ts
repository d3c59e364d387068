/**
 * `optevo runs`: every run under a directory, newest first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DB_FILE, SqliteRunStore } from '../../search/store.js';
import { formatFitness, judgedOf, padLeft, padRight } from '../format.js';
import { errorMessage } from '../../dsl/errors.js';

export interface RunSummary {
  name: string;
  dir: string;
  /** ISO time the run was created. */
  started: string;
  /** `interrupted`: stored as running, but no live process holds the run (killed, crashed): resume it. */
  status: 'running' | 'stopped' | 'done' | 'interrupted' | 'unreadable';
  judged: number;
  budget: number;
  bestFitness: number | null;
  bestId: number | null;
  /** Why an unreadable run could not be read. */
  error?: string;
}

/** Summaries of the runs in `dir` (subdirectories holding a run.db), newest first. */
export function listRuns(dir: string): RunSummary[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: RunSummary[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const runDir = path.join(dir, e.name);
    if (!fs.existsSync(path.join(runDir, DB_FILE))) continue;
    out.push(summarize(runDir, e.name));
  }
  return out.sort((a, b) => (a.started === b.started ? a.name.localeCompare(b.name) : a.started < b.started ? 1 : -1));
}

function summarize(runDir: string, fallbackName: string): RunSummary {
  let store: SqliteRunStore | undefined;
  try {
    store = SqliteRunStore.open(runDir, { readonly: true });
    const info = store.info();
    const stats = store.stats();
    return {
      name: info.name,
      dir: runDir,
      started: info.createdAt,
      status: info.status === 'running' && !heldByLiveProcess(runDir) ? 'interrupted' : info.status,
      judged: stats.judged,
      budget: stats.budget,
      bestFitness: stats.bestFitness,
      bestId: stats.bestId,
    };
  } catch (e) {
    return {
      name: fallbackName,
      dir: runDir,
      started: '',
      status: 'unreadable',
      judged: 0,
      budget: 0,
      bestFitness: null,
      bestId: null,
      error: errorMessage(e),
    };
  } finally {
    store?.close();
  }
}

/** Whether the run's lock file names a process that is still alive (the search writes one while it runs). */
export function heldByLiveProcess(runDir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(runDir, 'lock'), 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `2026-11-28 15:27` in local time. */
export function formatStart(iso: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '-';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The table `optevo runs` prints. */
export function formatRunsTable(runs: readonly RunSummary[], dir: string): string {
  if (runs.length === 0) return `no runs in ${dir} (start one with: optevo search)`;
  const nameWidth = Math.max(4, ...runs.map((r) => r.name.length));
  const judgedWidth = Math.max(6, ...runs.map((r) => judgedOf(r.judged, r.budget).length));
  const header = `${padRight('NAME', nameWidth)}  ${padRight('STARTED', 16)}  ${padRight('STATUS', 11)}  ${padLeft('JUDGED', judgedWidth)}  ${padLeft('BEST', 8)}  ${padLeft('PROGRAM', 7)}`;
  const lines = runs.map((r) => {
    const row = `${r.name.padEnd(nameWidth)}  ${padRight(formatStart(r.started), 16)}  ${padRight(r.status, 11)}  ${padLeft(judgedOf(r.judged, r.budget), judgedWidth)}  ${padLeft(formatFitness(r.bestFitness), 8)}  ${padLeft(r.bestId === null ? '-' : `#${r.bestId}`, 7)}`;
    return r.error ? `${row}  (${r.error})` : row;
  });
  return [header, ...lines].join('\n');
}
