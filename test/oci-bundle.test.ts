// scripts/lib/oci-bundle.mjs for real: deleteContainer removes a created runc
// container without blocking the event loop of the process that asks.
import { execFileSync, spawnSync } from 'node:child_process';
import t from 'tap';
import { deleteContainer, writeBundle } from '../scripts/lib/oci-bundle.mjs';
import { containerSkipReason } from './helpers/bundle.js';
import { tempDir } from './helpers/tmp.js';

const skip = containerSkipReason('runc');

function runcState(id: string): string | undefined {
  try {
    return (JSON.parse(execFileSync('runc', ['state', id], { encoding: 'utf8', stdio: 'pipe' })) as { status: string }).status;
  } catch {
    return undefined;
  }
}

t.test('deleteContainer: a created container is gone, and the event loop ran meanwhile', { skip }, async (t) => {
  const dir = tempDir('bundle-delete', t);
  writeBundle('runc', dir, { args: ['sleep', '100'] });
  const id = `sr-test-delete-${process.pid}`;
  const created = spawnSync('runc', ['create', '--bundle', dir, id], { stdio: 'ignore', timeout: 30000 });
  t.equal(created.status, 0, 'runc create');
  t.equal(runcState(id), 'created');
  let turned = false;
  setImmediate(() => (turned = true));
  const deleting = deleteContainer('runc', id);
  t.type(deleting, Promise, 'returns at once, runc still running');
  t.equal(turned, false);
  await deleting;
  t.equal(turned, true, 'the loop took a turn before runc delete ended (a settled promise would resolve first)');
  t.equal(runcState(id), undefined, 'runc no longer knows the container');
  await deleteContainer('runc', id);
  t.pass('deleting what is gone resolves quietly');
});
