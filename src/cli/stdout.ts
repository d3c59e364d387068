/**
 * A closed stdout (`optevo export RUN | head -1`) ends the command quietly,
 * as the reader asked, instead of raising EPIPE. A command with work to save
 * (the search) registers its own ending: it checkpoints and says, on stderr,
 * how to go on.
 */
let closed = false;
let onClose: (() => void) | null = null;

export function stdoutClosed(): boolean {
  return closed;
}

/** Replaces the default ending (exit 0 at once) while `handler` is set; pass null to restore it. */
export function onStdoutClosed(handler: (() => void) | null): void {
  onClose = handler;
}

export function watchStdout(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') {
      process.stderr.write(`optevo: cannot write to stdout (${e.code ?? e.message})\n`);
      process.exit(1);
    }
    if (closed) return;
    closed = true;
    if (onClose) onClose();
    else process.exit(0);
  });
}
