/*
 * For test/e2e/sync-hostile.test.ts: crafted tar streams and manifests, a
 * tree's state before and after (on the laptop and in a pod), a sidecar
 * bundle whose sync agent is hostile, and the real agent driven by hand.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import { AGENT_DIRECT_PORT, AGENT_KEY_LENGTH, AGENT_MARKER, AGENT_PORT, AGENT_WELCOME, SIDECAR_BUNDLE_FILE, SIDECAR_MOUNT, agentBridgeCommand } from '../../../src/contract/sidecar.ts';
import { frameChannel, type FrameChannel } from '../../../src/env/sync/frames.ts';
import { manifestToJson } from '../../../src/env/sync/manifest.ts';
import type { Entry, Manifest } from '../../../src/env/sync/types.ts';
import { execInPod } from '../../../src/kube/exec-socket.ts';
import type { Kube } from './cluster.ts';
import { REPO_ROOT } from './cluster.ts';

// ---------------------------------------------------------------- crafting

import type { Crafted } from '../../../src/env/sync/archive-test-util.ts';
export { craftTar, type Crafted } from '../../../src/env/sync/archive-test-util.ts';

export const T = new Date(1_600_000_000_000); // whole seconds: the plain tar mtime is exact
export const file = (name: string, data: string): Crafted => ({ header: { name, type: 'file', mode: 0o644, mtime: T }, data });
export const link = (name: string, target: string): Crafted => ({ header: { name, type: 'symlink', linkname: target, mtime: T } });

/** The names in a tar stream, as the other side would see them. */
export async function tarNames(tar: Buffer): Promise<string[]> {
  const ex = tarExtract();
  const names: string[] = [];
  Readable.from([tar]).pipe(ex);
  for await (const entry of ex) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names;
}

export const fileEntry = (path: string, data: string): Entry => ({ path, type: 'file', size: Buffer.byteLength(data), mode: 0o644, mtimeMs: T.getTime() });
export const linkEntry = (path: string, target: string): Entry => ({ path, type: 'symlink', size: 0, mode: 0o777, mtimeMs: T.getTime(), target });
export const manifestOf = (...entries: Entry[]): string => manifestToJson(new Map(entries.map((e) => [e.path, e])) as Manifest);

// ---------------------------------------------------------------- a tree, before and after

/** Every entry under `root` (lstat: links are never followed): type, mode, size, mtime, link target, content hash. */
export function snapshot(root: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      if (skip.includes(abs)) continue;
      const st = lstatSync(abs);
      const rel = relative(root, abs);
      if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`;
        walk(abs);
      } else out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${st.size} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`;
    }
  };
  walk(root);
  return out;
}

/** The same, taken by node inside the pod's sidecar container. */
export const POD_SNAPSHOT = `
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const skip = new Set(JSON.parse(process.argv[1])), out = {};
const walk = (dir, deep) => {
  let names; try { names = fs.readdirSync(dir).sort(); } catch (e) { out[dir] = 'unreadable ' + e.code; return; }
  for (const name of names) {
    const abs = path.join(dir, name);
    if (skip.has(abs)) continue;
    const st = fs.lstatSync(abs);
    if (!deep) { out[abs] = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'other'; continue; } // /proc, /dev...: names only
    if (st.isSymbolicLink()) out[abs] = 'link ' + fs.readlinkSync(abs);
    else if (st.isDirectory()) { out[abs] = 'dir ' + (st.mode & 0o7777).toString(8) + ' ' + st.mtimeMs; if (deep) walk(abs, deep); }
    else if (st.isFile()) out[abs] = 'file ' + (st.mode & 0o7777).toString(8) + ' ' + st.size + ' ' + st.mtimeMs + ' ' + crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
    else out[abs] = 'other ' + st.mode;
  }
};
walk('/', false);
for (const d of ['/etc', '/tmp', '/data', '/opt/runbox', '/root']) walk(d, true);
process.stdout.write(JSON.stringify(out));
`;

// ---------------------------------------------------------------- a hostile environment

/**
 * Put before the real bundle: it answers the framed protocol
 * (src/env/sync/frames.ts) with the scenario named by the synced folder's
 * last segment (`NAME#N` for the N-th session with that folder, if given),
 * both as the agent process (exec'd with the agent marker) and as the warm
 * agents of the sidecar's server (it takes their loopback ports first, so
 * the real ones never listen; on the direct port it sends every bridge to the
 * copied one), and never lets the real agent run.
 */
export function hostileAgent(scenarios: Record<string, { manifest: string; tar: string }>): string {
  return `
{
  const { readFileSync, writeFileSync } = await import('node:fs');
  const scenarios = JSON.parse(${JSON.stringify(JSON.stringify(scenarios))});
  const frame = (kind, payload) => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(payload.length + 1, 0);
    head[4] = kind;
    return Buffer.concat([head, payload]);
  };
  const converse = async (input, output, root, skip, done) => {
    let name = root && root.split('/').filter(Boolean).pop();
    let s, n = 0;
    const pick = () => {
      const counter = '/tmp/.hostile-' + name;
      try { n = Number(readFileSync(counter, 'utf8')); } catch {}
      writeFileSync(counter, String(n + 1));
      s = scenarios[name + '#' + n] ?? scenarios[name];
    };
    if (name) pick();
    const send = (kind, payload) => new Promise((r) => output.write(frame(kind, payload), r));
    const json = (v) => send(1, Buffer.from(JSON.stringify(v)));
    let buf = Buffer.alloc(0), ended = false, wake;
    const frames = [];
    input.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (skip > 0) { const k = Math.min(skip, buf.length); buf = buf.subarray(k); skip -= k; }
      while (buf.length >= 5 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        frames.push({ kind: buf[4], payload: buf.subarray(5, 4 + len) });
        buf = buf.subarray(4 + len);
      }
      wake?.();
    });
    input.on('end', () => { ended = true; wake?.(); });
    const next = async () => {
      while (frames.length === 0) {
        if (ended) return done();
        await new Promise((r) => (wake = r));
      }
      return frames.shift();
    };
    for (;;) {
      const f = await next();
      if (!f) return;
      if (f.kind !== 1) continue;
      const req = JSON.parse(f.payload.toString());
      if (req.agent) { name = req.agent[1].split('/').filter(Boolean).pop(); pick(); await json(${JSON.stringify(AGENT_WELCOME)}); continue; }
      console.error('hostile agent ' + name + '#' + n + ': ' + req.op);
      if (req.op === 'manifest') await json({ manifest: s.manifest });
      else if (req.op === 'send') {
        const tar = Buffer.from(s.tar, 'base64');
        for (let at = 0; at < tar.length; at += 65536) await send(2, tar.subarray(at, at + 65536));
        await send(3, Buffer.alloc(0));
        await json({ skipped: [] });
      } else if (req.op === 'receive') {
        for (let g = await next(); g && g.kind !== 3; g = await next());
        await json({ written: 0, refused: [] });
      } else if (req.op === 'remove') await json({ removed: [], refused: [] });
      else if (req.op === 'bye') { await json({ ok: true }); return done(); }
      else await json({ ok: true });
    }
  };
  if (process.argv.includes(${JSON.stringify(AGENT_MARKER)})) {
    await converse(process.stdin, process.stdout, process.argv[process.argv.length - 1], 0, () => process.exit(0));
  } else {
    const { createServer } = await import('node:net');
    createServer((socket) => {
      socket.on('error', () => {});
      converse(socket, socket, undefined, ${AGENT_KEY_LENGTH}, () => { socket.end(); });
    }).listen(${AGENT_PORT}, '127.0.0.1');
    createServer((socket) => {
      socket.on('error', () => {});
      socket.end('copy\\n');
    }).listen(${AGENT_DIRECT_PORT}, '127.0.0.1');
  }
}
`;
}

/** A copy of this runbox (bin and dist) whose sidecar bundle starts with `prefix`; the repo's dist is not touched. Returns the copy's folder. */
export function runboxWithBundlePrefix(prefix: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'runbox-hostile-cli-'));
  cpSync(join(REPO_ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
  cpSync(join(REPO_ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
  const bundle = join(copy, 'dist/sidecar', SIDECAR_BUNDLE_FILE);
  writeFileSync(bundle, prefix);
  appendFileSync(bundle, readFileSync(join(REPO_ROOT, 'dist/sidecar', SIDECAR_BUNDLE_FILE)));
  return copy;
}

// ---------------------------------------------------------------- the real agent, driven by hand

export interface AgentConversation {
  chan: FrameChannel;
  ask<T>(req: unknown): Promise<T>;
  end(): Promise<{ code: number; stderr: string }>;
}

/**
 * The sync agent of a pod, reached as runbox's sync does (src/env/exec/agent-session.ts): the warm
 * one through the bridge (`warm`), or an agent process; spoken to by the test itself.
 */
export async function openAgent(kube: Kube, pod: string, root: string, opts: { warm: boolean }): Promise<AgentConversation> {
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const errors: Buffer[] = [];
  const exec = execInPod({
    target: kube.target,
    pod,
    container: 'sidecar',
    command: opts.warm ? agentBridgeCommand(['sync', root]) : ['node', `${SIDECAR_MOUNT}/${SIDECAR_BUNDLE_FILE}`, AGENT_MARKER, 'sync', root],
    stdin: toAgent,
    stdout: fromAgent,
    stderr: new Writable({ write: (c: Buffer, _e, done) => (errors.push(c), done()) }),
  }).finally(() => fromAgent.end());
  exec.catch(() => {});
  const chan = frameChannel(fromAgent, toAgent);
  if (opts.warm) {
    await chan.sendJson({ agent: ['sync', root] });
    const hello = await chan.nextJson<{ hello?: string }>();
    if (hello.hello !== AGENT_WELCOME.hello) throw new Error(`no warm agent answered: ${JSON.stringify(hello)}`);
  }
  return {
    chan,
    async ask<T>(req: unknown) {
      await chan.sendJson(req);
      return chan.nextJson<T>();
    },
    async end() {
      toAgent.end();
      return { code: await exec, stderr: Buffer.concat(errors).toString() };
    },
  };
}
