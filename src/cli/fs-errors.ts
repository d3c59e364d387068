/** `permission denied`, `read-only file system`, ...: the part of a file-system error that a user acts on. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const known: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    ENOENT: 'no such file or folder',
    ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'is a folder',
    EEXIST: 'already exists',
  };
  return (code && known[code]) ?? code ?? (e as Error)?.message ?? String(e);
}
