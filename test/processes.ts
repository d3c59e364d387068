/**
 * Processes for tests that run optevo across processes (coordinators and
 * workers killed, frozen, cut off): started with their output kept, waited
 * on by what they print or what they write, always with a bound, and killed
 * at the end whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type Proc = ChildProcess & { out: string; err: string };

/** Starts `node ARGS` (behind `prefix`, e.g. `ip netns exec NS`), keeping its stdout and stderr. */
export function startNode(args: string[], opts: { prefix?: string[]; into?: Proc[]; env?: Record<string, string> } = {}): Proc {
  const [cmd, ...pre] = opts.prefix?.length ? opts.prefix : [process.execPath];
  const argv = opts.prefix?.length ? [...pre, process.execPath, ...args] : args;
  const p = spawn(cmd!, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) }) as Proc;
  p.out = '';
  p.err = '';
  p.stdout!.on('data', (d) => (p.out += d));
  p.stderr!.on('data', (d) => (p.err += d));
  opts.into?.push(p);
  return p;
}

/** The exit code (null after a signal), or 'timeout' if the process is still running after `ms`. */
export function exited(p: ChildProcess, ms = Number.POSITIVE_INFINITY): Promise<number | null | 'timeout'> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p.exitCode);
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(() => resolve('timeout'), ms) : undefined;
    p.once('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve(code);
    });
  });
}

/**
 * Reads `probe` every `everyMs` until `done` holds of its value or `ms` have
 * passed; returns the last value read (the caller's assertion says what was
 * wanted). A probe that throws counts as not done yet.
 */
export async function waitFor<T>(probe: () => Promise<T> | T, done: (v: T) => boolean, ms: number, everyMs = 100): Promise<T | undefined> {
  const end = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch {
      // not there yet (a database still being made, a server restarting)
    }
    if (Date.now() >= end) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits (bounded) until the process has printed a line matching `re` on stderr or stdout; whether it did. */
export async function printed(p: Proc, re: RegExp, ms: number): Promise<boolean> {
  return (await waitFor(() => re.test(p.err) || re.test(p.out), (x) => x, ms, 50)) === true;
}

/** Kills what is still running (SIGKILL), a frozen process included. */
export function killAll(ps: ChildProcess[]): void {
  for (const p of ps)
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
}
