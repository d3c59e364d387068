import { EventEmitter } from 'node:events';

/** A terminal as Ink sees it: what it writes is kept, keys are typed in. */
export class FakeStdout extends EventEmitter {
  isTTY = true;
  columns: number;
  rows: number;
  out = '';
  constructor(columns = 80, rows = 24) {
    super();
    this.columns = columns;
    this.rows = rows;
  }
  write = (s: string) => {
    this.out += s;
    return true;
  };
}

export class FakeStdin extends EventEmitter {
  isTTY: boolean;
  rawMode: boolean[] = [];
  private data: string | null = null;
  constructor(isTTY = true) {
    super();
    this.isTTY = isTTY;
  }
  type(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode(on: boolean) {
    this.rawMode.push(on);
  }
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}
