import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotRecord } from '../../src/contract/snapshot.ts';
import type { Kube } from './support/cluster.ts';
import { DEBIAN, createNamespace, deleteNamespace, devCluster, waitFor } from './support/cluster.ts';
import { kubectl, laptopEnv, runbox, startRunbox } from './support/cli.ts';
import { buildDeb } from './support/deb.ts';

// Root-filesystem snapshots on the dev cluster: the sidecar commits the
// worker's changes as image layers in the local registry (registry-push and
// registry-pull come from runbox-config, written by test/cluster/runbox-setup.sh),
// and the next pod starts from them.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });
const records = async (name: string) =>
  JSON.parse((await kubectl(['-n', ns, 'get', 'deployment', name, '-o', 'jsonpath={.metadata.annotations.runbox\\.dev/snapshots}'])).stdout || '[]') as SnapshotRecord[];
const pods = async (name: string) => (await kubectl(['-n', ns, 'get', 'pod', '-l', `runbox.dev/env=${name}`, '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter(Boolean);

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-snapshot');
  env = laptopEnv();
  const r = await rb('create', 'snap', '--image', DEBIAN);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

/** What a test checks of a path in the new pod: type, mode, owner, link target. */
const STAT = "stat -c '%n %F %a %u:%g %N'";

describe('a snapshot before --kill_after', () => {
  it('keeps files made in /, /usr/local and /etc, and every kind of change, exactly, in the next pod', async () => {
    const change = [
      'set -e',
      'echo root > /root-file',
      'mkdir -p /usr/local/lib/x && echo ul > /usr/local/lib/x/f && chown 1234:5678 /usr/local/lib/x/f',
      'echo etc > /etc/runbox-test && chmod 600 /etc/runbox-test',
      'ln -s /etc/runbox-test /usr/local/link',
      'ln /root-file /root-hard',
      'echo appended >> /etc/debian_version',
      'chmod 700 /usr/share/doc',
      'rm /etc/issue',
      'rm -rf /usr/share/doc/apt',
      'mkdir -p /opt/recreated && rm -rf /var/cache/apt && mkdir /var/cache/apt && echo new > /var/cache/apt/only',
    ].join('\n');
    const before = (await pods('snap'))[0];
    const r = await rb('--kill_after', 'snap', 'sh', '-c', change);
    expect(r.code, r.stderr).toBe(0);
    expect((await records('snap')).map((v) => v.version)).toEqual([1]);
    expect(await pods('snap')).toEqual([]);

    const check = await rb('snap', 'sh', '-c', [
      `${STAT} /root-file /root-hard /usr/local/lib/x/f /etc/runbox-test /usr/local/link /usr/share/doc`,
      'cat /root-file /usr/local/lib/x/f /etc/runbox-test /var/cache/apt/only',
      'tail -1 /etc/debian_version',
      'test ! -e /etc/issue && echo issue-gone',
      'test ! -e /usr/share/doc/apt && echo apt-doc-gone',
      'ls -A /var/cache/apt',
      'test "$(stat -c %i /root-file)" = "$(stat -c %i /root-hard)" && echo hardlinked',
      'test -e /usr/share/doc/dpkg && echo other-doc-kept',
    ].join('; '));
    expect(check.code, check.stderr).toBe(0);
    expect((await pods('snap'))[0]).not.toBe(before);
    expect(check.stdout.split('\n')).toEqual([
      "/root-file regular file 644 0:0 '/root-file'",
      "/root-hard regular file 644 0:0 '/root-hard'",
      "/usr/local/lib/x/f regular file 644 1234:5678 '/usr/local/lib/x/f'",
      "/etc/runbox-test regular file 600 0:0 '/etc/runbox-test'",
      "/usr/local/link symbolic link 777 0:0 '/usr/local/link' -> '/etc/runbox-test'",
      "/usr/share/doc directory 700 0:0 '/usr/share/doc'",
      'root',
      'ul',
      'etc',
      'new',
      'appended',
      'issue-gone',
      'apt-doc-gone',
      'only',
      'hardlinked',
      'other-doc-kept',
      '',
    ]);
  });

  it('a package installed with apt survives recycling and runs', async () => {
    // A .deb built here and carried by sync: the dev cluster has no apt mirror.
    expect((await rb('sync', 'snap', buildDeb('runbox-hello', 'hello from a package'), '--remote', 'debs')).code).toBe(0);
    const install = await rb('snap', 'sh', '-c', 'apt-get install -y /data/debs/runbox-hello.deb >/dev/null 2>&1 && runbox-hello');
    expect(install.stdout).toBe('hello from a package\n');
    expect((await rb('stop', 'snap')).code).toBe(0);
    const after = await rb('snap', 'sh', '-c', "runbox-hello && dpkg-query -W -f '${Status}\\n' runbox-hello");
    expect(after).toEqual({ code: 0, stdout: 'hello from a package\ninstall ok installed\n', stderr: '' });
  });

  it('a snapshot with no change is a no-op under a second, and makes no version', async () => {
    const versions = (await records('snap')).length;
    await rb('snap', 'true');
    const r = await rb('snapshot', 'snap', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as { changed: boolean; seconds: number; files: number };
    console.log(`no-change snapshot: ${answer.seconds} s in the sidecar for ${answer.files} entries`);
    expect(answer.changed).toBe(false);
    expect(answer.seconds).toBeLessThan(1);
    expect((await records('snap')).length).toBe(versions);
  });
});

describe('the index of the base image', () => {
  it('is shared through the registry: a second environment of the image fetches it instead of building it', async () => {
    expect((await rb('snapshot', 'snap', '-o', 'json')).code).toBe(0); // snap's index is on its volume, and shared
    expect((await rb('create', 'twin', '--image', DEBIAN)).code).toBe(0);
    const r = await rb('snapshot', 'twin', '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as { index: string; changed: boolean; seconds: number };
    console.log(`a new environment's first snapshot with the shared index: ${answer.seconds} s in the sidecar`);
    expect(answer).toMatchObject({ index: 'registry', changed: false });
    const again = JSON.parse((await rb('snapshot', 'twin', '-o', 'json')).stdout) as { index: string };
    expect(again.index).toBe('volume');
    expect((await rb('delete', 'twin', '-y')).code).toBe(0);
  });
});

describe('history and rollback', () => {
  it('lists the versions; rollback v1 restores v1 at the next start', async () => {
    expect((await rb('snap', 'sh', '-c', 'echo later > /etc/later')).code).toBe(0);
    const snap = await rb('snapshot', 'snap');
    expect(snap.stderr).toMatch(/snap: snapshot v\d+ /);
    const history = await rb('history', 'snap');
    expect(history.stdout).toMatch(/^VERSION\s+AGE\s+SIZE\s+LAYERS\s+COMMANDS\n/);
    expect(history.stdout).toContain(' v1 ');
    expect(history.stdout).toContain('sh -c set -e echo root > /root-file');
    const rollback = await rb('rollback', 'snap', 'v1');
    expect(rollback.stderr).toMatch(/snap runs v1 from its next start/);
    expect((await rb('status', 'snap')).stdout).toMatch(/^Snapshot: +v\d+ \(\d+s ago\); the next start runs v1$/m);
    expect((await rb('stop', 'snap')).code).toBe(0);
    const r = await rb('snap', 'sh', '-c', 'cat /root-file; test -e /etc/later && echo later-still-there; command -v runbox-hello || echo no-package');
    expect(r.stdout).toBe('root\nno-package\n');
    const versions = await records('snap');
    expect(versions.at(-1)!.commands).toEqual(['rollback to v1']);
    expect(versions.at(-1)!.digest).toBe(versions[0]!.digest);
  });

  it('a snapshot push killed midway leaves the environment starting from the previous version', async () => {
    const versions = await records('snap');
    expect((await rb('snap', 'sh', '-c', 'head -c 150000000 /dev/urandom > /opt/big && echo kept > /opt/small')).code).toBe(0);
    const pod = (await pods('snap'))[0]!;
    const snapshot = startRunbox(['-n', ns, 'snapshot', 'snap'], { env });
    const killAgent = 'for p in /proc/[0-9]*; do [ "${p#/proc/}" = "$$" ] && continue; case "$(tr "\\\\0" " " < $p/cmdline)" in *"sidecar.mjs runbox-agent snapshot"*) kill -9 ${p#/proc/}; echo killed;; esac; done';
    let finished: string | undefined;
    void snapshot.done.then((r) => (finished = `the snapshot ended before it could be killed: ${JSON.stringify(r)}`));
    await waitFor('the snapshot agent at work', 60_000, async () => {
      if (finished) throw new Error(finished);
      return (await kubectl(['-n', ns, 'exec', pod, '-c', 'sidecar', '--', 'sh', '-c', `sleep 1; ${killAgent}`])).stdout.includes('killed') || undefined;
    });
    const end = await snapshot.done;
    expect(end.code).toBe(125);
    expect(end.stderr).toMatch(/snapshot agent in snap's sidecar/);
    expect(await records('snap')).toEqual(versions);
    // The next start (after a stop that snapshots nothing: delete the big file first) runs the previous version.
    expect((await kubectl(['-n', ns, 'delete', 'pod', pod, '--wait=true'])).code).toBe(0);
    const r = await rb('snap', 'sh', '-c', 'test -e /opt/big && echo big-there; test -e /opt/small && echo small-there; cat /root-file');
    expect(r.stdout).toBe('root\n');
  });
});

describe('many snapshots', () => {
  it('twenty snapshots later the image has at most base + 5 layers, and its files are what they should be', async () => {
    for (let i = 0; i < 20; i++) {
      expect((await rb('snap', 'sh', '-c', `echo ${i} > /opt/file-${i}; rm -f /opt/file-${i - 1}.tmp; echo tmp > /opt/file-${i}.tmp`)).code).toBe(0);
      const s = await rb('snapshot', 'snap');
      expect(s.code, s.stderr).toBe(0);
    }
    const latest = (await records('snap')).at(-1)!;
    console.log(`after 20 snapshots: v${latest.version}, ${latest.layers} layers, ${(latest.size / 1e6).toFixed(1)} MB`);
    expect(latest.layers).toBeLessThanOrEqual(1 + 5);
    expect((await rb('stop', 'snap')).code).toBe(0);
    const r = await rb('snap', 'sh', '-c', 'cat /opt/file-0 /opt/file-19; ls /opt | grep -c "^file-[0-9]*$"; ls /opt | grep -c tmp; cat /root-file');
    expect(r.stdout).toBe('0\n19\n20\n1\nroot\n');
  });
});

describe('delete', () => {
  it("removes the environment's versions from the registry", async () => {
    const repo = `runbox/${ns}/snap`;
    const tags = async () => ((await (await fetch(`http://127.0.0.1:5000/v2/${repo}/tags/list`)).json()) as { tags?: string[] | null }).tags ?? [];
    expect((await tags()).length).toBeGreaterThan(0);
    const r = await rb('delete', '-y', 'snap');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`removed \\d+ snapshot versions from 10\\.77\\.0\\.1:5000/${repo}`));
    expect(await tags()).toEqual([]);
  });
});
