/** What the benchmark scripts read of their own process: flags and CPU time. */

/** The value after `flag` (e.g. `--rounds`) on the command line, else `dflt`. */
export function arg(flag: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/** CPU milliseconds of this process so far (user and system, every thread). */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
