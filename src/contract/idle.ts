/*
 * The idle handshake between the controller, the sidecar and every command's
 * prologue. Imports nothing.
 *
 * Doze: the controller shrinks the worker in place, then asks the sidecar to
 * raise the doze flag, which holds the CPU quota the worker has while dozing.
 * A command's prologue that finds the flag and that quota refuses to run (the
 * CLI restores the allocation and runs it again); once the quota differs, the
 * prologue drops the flag.
 *
 * Sleep: the controller asks the sidecar to drain. The sidecar refuses while
 * anything runs; otherwise it raises the drain flag, which every new command's
 * prologue refuses on (the CLI waits for the sleep and wakes the environment),
 * then checks once more for processes. It lapses on its own after
 * DRAIN_HOLD_MS, and a restarted sidecar drops both flags.
 */

/**
 * The flags live in the pod's shared memory, which every container of a pod
 * shares and which goes with the pod: a flag never outlives the pod it was
 * raised in (the worker of a new pod may start before its sidecar).
 */
export const DRAIN_FLAG = '/dev/shm/.runbox-draining';
export const DOZE_FLAG = '/dev/shm/.runbox-dozing';

/** A refused command's prologue prints this (then the reason and a newline) first, and exits REFUSED_EXIT. */
export const REFUSAL_MARKER = '\u0000runbox-refused ';
export const REFUSED_EXIT = 75;
export const REFUSALS = ['draining', 'dozing'] as const;
export type Refusal = (typeof REFUSALS)[number];

/** How long a drain flag holds if the sleep it announced never comes (the controller died). */
export const DRAIN_HOLD_MS = 60_000;

/** The worker's CPU while dozing. */
export const DOZE_CPU = '25m';
/**
 * The least memory a dozing worker is lowered to. It is lowered only where what
 * the worker uses fits below the new limit with room to spare: the kubelet
 * refuses a limit below the usage, and the CPU shrink with it.
 */
export const DOZE_MEMORY_MIN = '32Mi';

/** The sidecar's answer to a doze whose shrink the worker's cgroup never got (the kubelet refused it). */
export const DOZE_NOT_APPLIED = 422;

/** Sidecar endpoints of the handshake (POST). */
export const IDLE_ENDPOINT = {
  /**
   * Body {quota: number}: the worker's CFS quota while dozing. 200; 409 with a SidecarStatus
   * when busy; DOZE_NOT_APPLIED with {applied: quota or null} when the shrink never reached the cgroup.
   */
  doze: '/doze',
  /** 200 once draining, or 409 with a SidecarStatus when busy. */
  drain: '/drain',
  /** Drops the drain flag (the sleep was called off, e.g. its snapshot failed). */
  undrain: '/undrain',
} as const;

/** The runbox.dev/idle annotation: what the controller (or runbox stop) did and why. */
export interface IdleRecord {
  state: 'dozing' | 'sleeping';
  /** ISO time. */
  at: string;
  /** e.g. "idle for 30m (sleep-after 30m)". */
  why: string;
  /** Who did it: "controller" or "runbox stop". */
  by: string;
}
