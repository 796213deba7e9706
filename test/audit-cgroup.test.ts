// pid -> container: the cgroup layouts of runc, crun, containerd, CRI-O and
// podman (v1 and v2), and the cache that answers for pids that have exited.
// Layout strings follow what each engine writes; the runc one was seen here.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { containerIdOfCgroupFile, containerIdOfPath, PidAttributor } from '../src/record/audit/cgroup.js';
import { RuntimeContainers } from '../src/record/audit/runtime-state.js';
import { tempDir } from './helpers/tmp.js';

const ID = 'a'.repeat(16) + 'b'.repeat(16) + '0123456789abcdef'.repeat(2);

t.test('container ids in the cgroup layouts of each engine', async (t) => {
  const cases: [string, string][] = [
    ['docker cgroupfs (v1)', `/docker/${ID}`],
    ['docker systemd', `/system.slice/docker-${ID}.scope`],
    ['containerd k8s cgroupfs', `/kubepods/burstable/pod0b9f7a2e-2d0c-4d5e-9a53-7cbd2e0a1f00/${ID}`],
    ['containerd k8s systemd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b9f7a2e.slice/cri-containerd-${ID}.scope`],
    ['CRI-O systemd', `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/crio-${ID}.scope`],
    ['CRI-O cgroupfs', `/kubepods/besteffort/pod1/crio-${ID}`],
    ['podman systemd', `/machine.slice/libpod-${ID}.scope`],
    ['podman with crun subgroup', `/machine.slice/libpod-${ID}.scope/container`],
    ['podman cgroupfs', `/libpod_parent/libpod-${ID}`],
    ['nested: the inner container wins', `/docker/${'f'.repeat(64)}/docker/${ID}`],
  ];
  for (const [label, path] of cases) t.equal(containerIdOfPath(path), ID, label);
  t.equal(containerIdOfPath(`/machine.slice/libpod-conmon-${ID}.scope`), undefined, "podman's conmon is not the container");
  t.equal(containerIdOfPath(`/system.slice/crio-conmon-${ID}.scope`), undefined, "CRI-O's conmon is not the container");
  t.equal(containerIdOfPath('/user.slice/user-0.slice/session-1.scope'), undefined);
  t.equal(containerIdOfPath('/process_api/6fee48a89fc9fe9b9bf0adb402e9ea89'), undefined, 'a 32-hex name is no container id');
});

t.test('runc with its own id: known from the runtime state, v2 line preferred', async (t) => {
  // As /proc/PID/cgroup read for a `runc run srcg-test1` container on this machine (hybrid layout).
  const text = [
    '9:name=systemd:/srcg-test1',
    '8:pids:/srcg-test1',
    '4:memory:/process_api/6fee48a89fc9fe9b9bf0adb402e9ea89/srcg-test1',
    '0::/srcg-test1',
    '',
  ].join('\n');
  t.same(containerIdOfCgroupFile(text), { cgroup: '/srcg-test1' }, 'unknown name: no container, the v2 path reported');
  t.same(containerIdOfCgroupFile(text, (id) => id === 'srcg-test1'), { containerId: 'srcg-test1', cgroup: '/srcg-test1' });
  const v1only = `12:pids:/docker/${ID}\n1:name=systemd:/docker/${ID}\n`;
  t.equal(containerIdOfCgroupFile(v1only).containerId, ID, 'cgroup v1 only');
});

t.test('the runtime state directories name the containers and their bundles', async (t) => {
  const root = tempDir('audit-state', t);
  mkdirSync(join(root, 'runc', 'web-1'), { recursive: true });
  writeFileSync(join(root, 'runc', 'web-1', 'state.json'), JSON.stringify({ id: 'web-1', config: { labels: ['bundle=/srv/bundles/web-1'] } }));
  mkdirSync(join(root, 'crun', 'db-1'), { recursive: true });
  writeFileSync(join(root, 'crun', 'db-1', 'status'), JSON.stringify({ bundle: '/srv/bundles/db-1' }));
  mkdirSync(join(root, 'containerd', 'k8s.io', ID), { recursive: true });
  const known = new RuntimeContainers([join(root, 'runc'), join(root, 'crun'), join(root, 'containerd', '*')], 0);
  t.ok(known.has('web-1') && known.has('db-1') && known.has(ID));
  t.notOk(known.has('other'));
  t.equal(known.bundleOf('web-1'), '/srv/bundles/web-1');
  t.equal(known.bundleOf('db-1'), '/srv/bundles/db-1');
  t.equal(known.get('db-1')?.runtime, 'crun');
  mkdirSync(join(root, 'runc', 'late'));
  t.ok(known.has('late'), 're-listed when asked about an unknown id');
});

t.test('the attributor reads /proc and keeps answering for a pid that has exited', async (t) => {
  const proc = tempDir('audit-proc', t);
  const put = (pid: number, text: string) => {
    mkdirSync(join(proc, String(pid)), { recursive: true });
    writeFileSync(join(proc, String(pid), 'cgroup'), text);
  };
  put(100, `0::/system.slice/docker-${ID}.scope\n`);
  put(200, '0::/user.slice/session-3.scope\n');
  const a = new PidAttributor({ procRoot: proc, refreshMs: 1000, keepMs: 10_000 });
  t.same(a.attribute(100, 0), { status: 'container', containerId: ID, cgroup: `/system.slice/docker-${ID}.scope` });
  t.same(a.attribute(200, 0), { status: 'host', cgroup: '/user.slice/session-3.scope' });
  t.same(a.attribute(300, 0), { status: 'gone' }, 'never seen alive: unattributable');
  rmSync(join(proc, '100'), { recursive: true });
  t.equal(a.attribute(100, 5000).status, 'container', 'exited, answered from the cache');
  t.equal(a.attribute(100, 20_000).status, 'gone', 'too old to trust (pids get reused)');
  put(200, `0::/kubepods/pod1/${ID}\n`);
  t.equal(a.attribute(200, 500).status, 'host', 'fresh cache entry');
  t.equal(a.attribute(200, 1500).status, 'container', 're-read after refreshMs: a reused pid is seen');
});

t.test('the attributor on this machine: our own process', async (t) => {
  const a = new PidAttributor();
  const r = a.attribute(process.pid);
  t.not(r.status, 'gone');
});
