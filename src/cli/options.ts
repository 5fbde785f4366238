import { InvalidArgumentError, Option } from 'commander';

/*
 * Options that several commands share, each parsed and checked in one place:
 * a malformed value stops the command before it touches the cluster.
 */

const DEFAULT_TIMEOUT_SECONDS = 300;

/** Seconds as milliseconds; anything but a finite number above 0 is refused. */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`it must be a number of seconds above 0, not "${value}"`);
  }
  return n * 1000;
}

/** `--timeout <seconds>`, parsed to milliseconds as `timeout`. */
export function timeoutOption(what: string): Option {
  return new Option('--timeout <seconds>', `how long to wait for ${what}`)
    .argParser(parseSeconds)
    .default(DEFAULT_TIMEOUT_SECONDS * 1000, String(DEFAULT_TIMEOUT_SECONDS));
}

export const anyOwnerOption = (): Option => new Option('--any-owner', "act on somebody else's environment");
