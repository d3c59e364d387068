/**
 * Test hosts: network namespaces joined to this one by veth pairs, as root.
 * Each host has its own address and reaches PostgreSQL over the network
 * (through a small TCP relay on its veth address here, since the server
 * listens on 127.0.0.1 only), so cutting a host's link cuts it off the way
 * a pulled cable would. Everything made is removed afterwards, on failure too.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import { startNode, type Proc } from '../processes.js';

export interface Host {
  name: string;
  /** This side's address on the host's link: where the host finds PostgreSQL. */
  gateway: string;
  /** Starts a Node process inside the host. */
  node(args: string[]): Proc;
  /** Cuts the host off the network (its link goes down). */
  cut(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();

/** Whether this machine lets us make network namespaces (root, `ip` installed). */
export function canMakeHosts(): boolean {
  if (os.platform() !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = `optevo-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return true;
  } catch {
    return false;
  }
}

export async function withHosts<T>(n: number, pgPort: number, f: (hosts: Host[]) => Promise<T>): Promise<T> {
  const tag = `${process.pid % 10000}`;
  const made: string[] = [];
  const relays: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const procs: ChildProcess[] = [];
  try {
    const hosts: Host[] = [];
    for (let i = 0; i < n; i++) {
      const ns = `optevo-${tag}-${i}`;
      const here = `oa${tag}h${i}`;
      const there = `ob${tag}h${i}`;
      const net3 = `10.231.${(process.pid % 200) + i}`;
      ip('netns', 'add', ns);
      made.push(ns);
      ip('link', 'add', here, 'type', 'veth', 'peer', 'name', there);
      ip('link', 'set', there, 'netns', ns);
      ip('addr', 'add', `${net3}.1/30`, 'dev', here);
      ip('link', 'set', here, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net3}.2/30`, 'dev', there);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', there, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      // The relay: the host's connections arrive here and go on to the server.
      const relay = net.createServer((inbound) => {
        const out = net.connect(pgPort, '127.0.0.1');
        for (const s of [inbound, out]) {
          sockets.add(s);
          s.on('error', () => s.destroy());
          s.on('close', () => sockets.delete(s));
        }
        inbound.pipe(out).pipe(inbound);
        inbound.on('close', () => out.destroy());
        out.on('close', () => inbound.destroy());
      });
      await new Promise<void>((res, rej) => relay.once('error', rej).listen(pgPort, `${net3}.1`, () => res()));
      relays.push(relay);
      hosts.push({
        name: ns,
        gateway: `${net3}.1`,
        node(args) {
          const p = startNode(args, { prefix: ['ip', 'netns', 'exec', ns] });
          procs.push(p);
          return p;
        },
        cut() {
          ip('netns', 'exec', ns, 'ip', 'link', 'set', there, 'down');
        },
      });
    }
    return await f(hosts);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of made) {
      // Whatever still runs in the host goes with it.
      try {
        for (const pid of ip('netns', 'pids', ns).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
      try {
        ip('netns', 'del', ns);
      } catch {
        // gone already
      }
    }
    for (const s of sockets) s.destroy();
    await Promise.all(relays.map((r) => new Promise((res) => r.close(() => res(undefined)))));
  }
}
