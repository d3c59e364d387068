import type { SearchEvent, SearchListener } from '../../../search/types.js';

/** A hand-driven search: tests emit events and count what the dashboard asked for. */
export class FakeSource {
  listeners = new Set<SearchListener>();
  calls: string[] = [];
  subscribe(l: SearchListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(...events: SearchEvent[]): void {
    for (const e of events) for (const l of this.listeners) l(e);
  }
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
  stop(): void {
    this.calls.push('stop');
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `check` passes (or fails after `ms`). */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}
