import { describe, expect, it } from 'vitest';
import { mountPoints } from './mountinfo.ts';

// Shaped like a containerd worker's mountinfo (trimmed), with the escapes the kernel writes.
const SAMPLE = [
  '1210 1108 0:180 / / rw,relatime master:412 - overlay overlay rw,lowerdir=/l1:/l2,upperdir=/u,workdir=/w',
  '1211 1210 0:182 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '1212 1210 0:183 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755',
  '1213 1212 0:184 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620',
  '1216 1210 0:186 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro',
  '1218 1210 8:1 /var/lib/kubelet/pods/x/volumes/kubernetes.io~host-path/pv /data rw,relatime - ext4 /dev/sda1 rw',
  '1219 1210 8:1 /var/lib/kubelet/pods/x/etc-hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw',
  '1220 1210 8:1 /var/lib/containerd/sandboxes/y/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw',
  '1221 1210 8:1 /var/lib/containerd/sandboxes/y/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw',
  '1222 1210 0:190 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=1g',
  '1223 1210 8:1 /srv/x /mnt/my\\040disk\\011tab\\134slash rw - ext4 /dev/sda1 rw',
  '1224 1211 0:182 /bus /proc/bus ro,relatime - proc proc rw',
  '1225 1210 8:1 /srv/x /opt/caf\u00e9/ rw - ext4 /dev/sda1 rw',
  '',
].join('\n');

describe('mountPoints', () => {
  it('lists every mount point relative to the root, unescaped, without the root itself', () => {
    expect(mountPoints(SAMPLE)).toEqual([
      'data',
      'dev',
      'dev/pts',
      'etc/hostname',
      'etc/hosts',
      'etc/resolv.conf',
      'mnt/my disk\ttab\\slash',
      'opt/caf\u00e9',
      'proc',
      'proc/bus',
      'sys',
      'var/run/secrets/kubernetes.io/serviceaccount',
    ]);
  });

  it('lists a path mounted twice once, and ignores blank or malformed lines', () => {
    const text = '1 0 0:1 / /proc rw - proc proc rw\n2 0 0:1 / /proc rw - proc proc rw\n\ngarbage\n3 0 0:1 / / rw - overlay o rw\n';
    expect(mountPoints(text)).toEqual(['proc']);
  });
});
