// podman under the agent: a busybox rootfs imported as a local image
// (`podman import` -> localhost/...:tag; vfs storage, cgroupfs, private
// config), run with --security-opt seccomp=<recording profile>. podman's
// annotations do not name the image: the agent asks `podman inspect`.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { ImageDetail, ImageSummary } from '../src/agent/views.js';
import { nativeBuildStatus } from '../src/record/native.js';
import { buildRootfs, findStaticBusybox, hasCommand, isMountpoint } from '../scripts/lib/oci-bundle.mjs';
import { eventually, startAgent } from './helpers/agent-process.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const skip = !nativeBuildStatus().ok
  ? 'the native part is not built (npm run build)'
  : process.getuid?.() !== 0
    ? 'podman tests need root'
    : !hasCommand('podman')
      ? 'podman is not installed (apt-get install podman)'
      : !findStaticBusybox()
        ? 'no static busybox (apt-get install busybox-static)'
        : false;

/** A private podman setup: config files, storage, and the environment pointing at them. */
function podmanEnv(dir: string): NodeJS.ProcessEnv {
  writeFileSync(
    join(dir, 'containers.conf'),
    '[containers]\nnetns = "none"\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
  );
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'graph')}"\nrunroot = "${join(dir, 'runroot')}"\n`);
  writeFileSync(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  return {
    ...process.env,
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
  };
}

function podman(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // crun 1.8 refuses this VM kind's hybrid cgroup layout: a private mount namespace without the v2 mount.
  const argv = isMountpoint('/sys/fs/cgroup/unified')
    ? ['unshare', '-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified && exec podman "$@"', 'podman', ...args]
    : ['podman', ...args];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('a podman container run with the recording profile is attributed to its localhost/ image', { skip }, async (t) => {
  const dir = tempDir('agent-podman', t);
  const env = podmanEnv(dir);
  buildRootfs(dir);
  execFileSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']);
  execFileSync('podman', ['import', join(dir, 'rootfs.tar'), 'localhost/sr-agent-box:1'], { env, stdio: 'pipe' });

  // The agent must see the same podman storage to inspect the container.
  const agent = await startAgent({ t, env });
  t.teardown(() => agent.kill9());
  const profileFile = join(dir, 'record.json');
  const p = await runCli(['recording-profile', '--runtime', 'runc', '--socket', agent.socket, '-o', profileFile, '-q']);
  t.equal(p.code, 0, p.stderr);

  const run = await podman(env, ['run', '--rm', '--name', 'sr-agent-web', '--security-opt', `seccomp=${profileFile}`, 'localhost/sr-agent-box:1', '/bin/sh', '-c', 'echo from podman; ls / > /dev/null']);
  t.equal(run.code, 0, `podman run under the recording profile: ${run.stderr}`);
  t.equal(run.stdout, 'from podman\n');
  let runtimes = 1;
  if (hasCommand('runc')) {
    const viaRunc = await podman(env, ['run', '--rm', '--runtime', 'runc', '--security-opt', `seccomp=${profileFile}`, 'localhost/sr-agent-box:1', '/bin/sh', '-c', 'echo via runc']);
    t.equal(viaRunc.code, 0, `podman --runtime runc: ${viaRunc.stderr}`);
    runtimes = 2;
  }

  const list = await eventually(
    async () => (await agent.json<{ images: ImageSummary[] }>('GET', '/v1/recordings')).images,
    (l) => l.length === 1 && l[0].containers === runtimes && l[0].liveContainers === 0,
    30_000,
  );
  t.same(list.map((i) => [i.image, i.sources]), [['localhost/sr-agent-box:1', ['podman']]]);
  const d = await agent.json<ImageDetail>('GET', `/v1/recordings/${encodeURIComponent('localhost/sr-agent-box:1')}`);
  t.ok(d.groups.some((g) => g.name === 'sr-agent-web'), 'podman\'s container name kept');
  t.ok(d.calls.some((o) => o.syscall === 'getdents64'), 'the workload\'s calls (ls) recorded');
  const line = agent.logs.find((l) => l.msg === 'recording container' && l.name === 'sr-agent-web');
  t.equal(line?.image, 'localhost/sr-agent-box:1');
  t.equal(line?.source, 'podman');
  t.equal(await agent.stop(), 0);
});
