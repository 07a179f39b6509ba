/**
 * Opening the capture files the CLI is given (`intercept -w`, `filter test -r`), with errors that
 * name the file and the fix. The file written is created or truncated but never reached through
 * a symbolic link (O_NOFOLLOW): run as root in a shared directory, `-w /tmp/x.pcap` must not
 * overwrite whatever a planted link `/tmp/x.pcap` points to. Directories on the way are followed
 * (the user chose them). A FIFO or a terminal is written as given (`-w /dev/stdout` piped to a reader).
 * @module
 */
import { constants, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DivertError } from '../errors.js';
import { UsageError } from './io.js';

/** What went wrong with `path`, in words, with the way out. */
function fileProblem(verb: 'write' | 'read', path: string, err: unknown): DivertError {
  const code = (err as { code?: unknown }).code;
  const name = JSON.stringify(path);
  const why =
    code === 'ELOOP' ? 'it is a symbolic link, which divert does not follow: name the file it points to, or remove the link'
    : code === 'ENOENT' && verb === 'write' ? `the directory ${JSON.stringify(dirname(path))} does not exist: create it first`
    : code === 'ENOENT' ? 'no such file: check the name'
    : code === 'EISDIR' ? 'it is a directory: name a file in it'
    : code === 'EACCES' || code === 'EPERM' ? `permission denied: choose a file you may ${verb}`
    : code === 'EROFS' ? 'the file system is read-only: choose another directory'
    : String((err as Error).message ?? err).replace(/^[A-Z]+: /, '');
  const errno = typeof code === 'string' ? `${code}: ` : '';
  const after = verb === 'write' ? ' (nothing was installed)' : '';
  return new DivertError(`cannot ${verb} the pcap file ${name}: ${errno}${why}${after}`, 'ERR_DIVERT_PCAP_OPEN', { cause: err });
}

/**
 * Opens `path` for writing a capture: created (mode 0644 before the umask) or truncated, and
 * refused when it is a symbolic link.
 * @throws {UsageError} for an empty name; {@link DivertError} `ERR_DIVERT_PCAP_OPEN` when it cannot be opened.
 */
export function openCaptureForWrite(path: string): number {
  if (path === '') throw new UsageError('-w needs a file name, got ""');
  try {
    return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw fileProblem('write', path, err);
  }
}

/**
 * The bytes of the capture file `path`.
 * @throws {UsageError} for an empty name; {@link DivertError} `ERR_DIVERT_PCAP_OPEN` when it cannot be read.
 */
export function readCaptureFile(path: string): Uint8Array {
  if (path === '') throw new UsageError('-r needs a file name, got ""');
  try {
    return readFileSync(path);
  } catch (err) {
    throw fileProblem('read', path, err);
  }
}
