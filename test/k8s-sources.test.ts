// Where patch finds profiles, without an agent: image references in their full
// form, --map before profiles exported under the kubelet root, a mapped
// profile that is not exported, two images that would share one file; and a
// JSON manifest patched stays JSON.
import t from 'tap';
import { InputError, UsageError } from '../src/errors.js';
import { imageCandidates, normalizeImage } from '../src/k8s/image-ref.js';
import { parseManifest } from '../src/k8s/manifest.js';
import { patchManifest } from '../src/k8s/patch.js';
import { profileResolver } from '../src/k8s/profile-sources.js';
import { exportProfile } from '../src/profile/export.js';
import { allowListProfile } from '../src/profile/model.js';
import { tempDir } from './helpers/tmp.js';

t.test('image references are completed as a runtime pulls them', async (t) => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['docker.io/nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['quay.io/prometheus/nginx-exporter:v1.1', 'quay.io/prometheus/nginx-exporter:v1.1'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['registry.example.com:443/team/app:2.1', 'registry.example.com:443/team/app:2.1'],
    ['busybox@sha256:abcd', 'docker.io/library/busybox@sha256:abcd'],
    ['localhost/pause:3.9', 'localhost/pause:3.9'],
  ];
  for (const [ref, full] of cases) t.equal(normalizeImage(ref), full, ref);
  t.same(imageCandidates('docker.io/library/nginx:1.27'), ['docker.io/library/nginx:1.27']);
  t.same(imageCandidates('nginx:1.27'), ['nginx:1.27', 'docker.io/library/nginx:1.27']);
});

async function root(names: string[]): Promise<string> {
  const dir = tempDir('sources');
  for (const name of names) await exportProfile({ profile: allowListProfile(['x86_64'], ['read', name.length % 2 ? 'write' : 'close']), name, kubeletRoot: dir });
  return dir;
}

t.test('--map wins over the name derived from the image; both read from the kubelet root', async (t) => {
  const kubeletRoot = await root(['nginx-1.27', 'web']);
  const resolve = await profileResolver(['nginx:1.27', 'docker.io/library/nginx:1.27', 'redis:7'], { kubeletRoot, map: ['docker.io/library/nginx:1.27=web'] });
  t.equal(resolve('nginx:1.27')?.localhostProfile, 'seccomp-recorder/web.json', 'the map matches the image in its full form');
  t.equal(resolve('nginx:1.27')?.source, 'map');
  t.ok(resolve('nginx:1.27')?.profile, 'content read');
  t.equal(resolve('redis:7'), undefined, 'nothing exported for redis');
  const derived = await profileResolver(['docker.io/library/nginx:1.27'], { kubeletRoot });
  t.same([derived('docker.io/library/nginx:1.27')?.localhostProfile, derived('docker.io/library/nginx:1.27')?.source], ['seccomp-recorder/nginx-1.27.json', 'kubelet-root']);
});

t.test('a mapped profile missing from the kubelet root, and two images on one file, are refused', async (t) => {
  const kubeletRoot = await root(['app-1']);
  await t.rejects(profileResolver(['nginx:1.27'], { kubeletRoot, map: ['nginx:1.27=absent'] }), InputError);
  await t.rejects(profileResolver(['a.example.com/app:1', 'b.example.com/app:1'], { kubeletRoot }), { constructor: UsageError, message: /a\.example\.com\/app:1 and b\.example\.com\/app:1 would share the profile name app-1/ });
  await t.rejects(profileResolver(['x'], { map: ['x=../y'] }), UsageError);
  const noDir = await profileResolver(['nginx:1.27'], { map: ['nginx:1.27=web'] });
  t.same(noDir('nginx:1.27'), { image: 'nginx:1.27', name: 'web', localhostProfile: 'seccomp-recorder/web.json', source: 'map' }, 'without a kubelet root: the name only');
});

t.test('a JSON manifest is written back as JSON, indented as it was', async (t) => {
  const text = '{\n    "apiVersion": "v1",\n    "kind": "Pod",\n    "metadata": {"name": "p"},\n    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}\n}\n';
  const r = patchManifest(parseManifest(text, 'p.json'), () => ({ image: 'nginx:1.27', name: 'web', localhostProfile: 'seccomp-recorder/web.json', source: 'map' }));
  const doc = JSON.parse(r.after) as { spec: { containers: { securityContext: unknown }[] } };
  t.same(doc.spec.containers[0].securityContext, { seccompProfile: { type: 'Localhost', localhostProfile: 'seccomp-recorder/web.json' } });
  t.match(r.after, /^\{\n {4}"apiVersion": "v1",\n/);
  t.ok(r.after.endsWith('}\n'));
});
