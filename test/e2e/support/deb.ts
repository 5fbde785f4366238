import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A .deb with one program `/usr/bin/NAME` that prints `says`, built here with
 * dpkg-deb (the dev cluster has no apt mirror): tests carry it over with sync.
 * Returns the folder it is in (alone).
 */
export function buildDeb(name: string, says: string): string {
  const pkg = mkdtempSync(join(tmpdir(), 'runbox-deb-'));
  mkdirSync(join(pkg, 'root/DEBIAN'), { recursive: true });
  mkdirSync(join(pkg, 'root/usr/bin'), { recursive: true });
  writeFileSync(join(pkg, 'root/DEBIAN/control'), `Package: ${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: runbox <e2e@runbox.dev>\nDescription: says ${says}\n`);
  writeFileSync(join(pkg, `root/usr/bin/${name}`), `#!/bin/sh\necho ${says}\n`);
  chmodSync(join(pkg, `root/usr/bin/${name}`), 0o755);
  mkdirSync(join(pkg, 'up'));
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', join(pkg, 'root'), join(pkg, `up/${name}.deb`)], { stdio: 'ignore' });
  return join(pkg, 'up');
}
