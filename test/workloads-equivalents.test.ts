// Real servers, recorded once and run again under the profile (issue 17).
// PostgreSQL: the first run leaves its WAL at 80% of a segment, so the second
// start preallocates the next segment and zero-fills it with pwritev, which the
// first run never called: the deployable profile (equivalents on) passes, the
// --exact one fails with the issue's FATAL. nginx (master, 2 workers, sendfile,
// gzip) passes either way, as the issue saw. Fixtures: test/fixtures/workloads/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { markedEquivalents } from '../src/profile/equivalents.js';
import { parseOciProfile } from '../src/profile/oci.js';
import { runCli } from './helpers/cli.js';
import { sharedTempDir } from './helpers/tmp.js';

const FIX = new URL('./fixtures/workloads/', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

function userId(name: string): { uid: number; gid: number } | undefined {
  try {
    return { uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
}

const pgBin = postgresBin();
const pgUser = userId('postgres');
const pgSkip = !isRoot
  ? 'needs root (runs postgres as the postgres user)'
  : !pgBin || !pgUser
    ? 'PostgreSQL is not installed (apt-get install postgresql)'
    : !existsSync('/usr/sbin/runuser')
      ? 'runuser is missing (util-linux)'
      : false;
const nginxSkip = !isRoot ? 'needs root' : !existsSync('/usr/sbin/nginx') ? 'nginx is not installed (apt-get install nginx)' : !existsSync('/usr/bin/curl') ? 'curl is not installed' : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const since = (start: number) => `${((Date.now() - start) / 1000).toFixed(1)} s`;

t.test('PostgreSQL: the second start needs pwritev; equivalents let it run, --exact fails as the issue shows', { skip: pgSkip }, async (t) => {
  const dir = sharedTempDir('pg', t);
  const { uid, gid } = pgUser!;
  for (const f of ['pg-run.sh', 'pg-workload.sql']) copyFileSync(join(FIX, f), join(dir, f));
  const script = join(dir, 'pg-run.sh');
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  for (const d of [data, sock]) {
    mkdirSync(d, { mode: 0o700 });
    chownSync(d, uid, gid);
  }
  execFileSync('runuser', ['-u', 'postgres', '--', join(pgBin!, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = (name: string) => {
    const f = join(dir, name);
    writeFileSync(f, '', { mode: 0o666 });
    chownSync(f, uid, gid);
    return f;
  };
  const pgRun = (dataDir: string, logFile: string) => ['runuser', '-u', 'postgres', '--', script, pgBin!, dataDir, sock, join(dir, 'pg-workload.sql'), logFile];

  // Run 1, recorded: start, workload, fast shutdown.
  const rec = join(dir, 'pg.rec.json');
  const deployable = join(dir, 'pg.json');
  const log1 = log('run1.log');
  const r1 = await runCli(['record', '--save-recording', rec, '-o', deployable, '--', ...pgRun(data, log1)], { timeoutMs: 120000 });
  t.equal(r1.code, 0, 'run 1, recorded', { stderr: r1.stderr, log: readFileSync(log1, 'utf8') });
  t.match(readFileSync(log1, 'utf8'), /wal at (\d+)/, 'the workload reports where the WAL ended');
  t.match(readFileSync(log1, 'utf8'), /checkpoint complete: .*0 WAL file\(s\) added/, 'run 1 added no WAL file');
  const recorded = JSON.parse(readFileSync(rec, 'utf8')) as { observations: { syscall?: string }[] };
  const recordedNames = recorded.observations.map((o) => o.syscall);
  t.ok(recordedNames.includes('pwrite64'), 'run 1 wrote with pwrite64');
  t.notOk(recordedNames.includes('pwritev'), 'run 1 never called pwritev');
  const added = markedEquivalents(parseOciProfile(readFileSync(deployable, 'utf8'), deployable));
  t.ok(added.includes('pwritev'), 'the deployable profile adds pwritev as an equivalent of pwrite64');
  t.match(r1.stderr, /pwritev \(for pwrite64\)/, 'and the summary says so');
  t.comment(`PostgreSQL: ${added.length} equivalents added: ${added.join(', ')}`);

  // The --exact profile of the same recording.
  const exact = join(dir, 'pg.exact.json');
  const g = await runCli(['generate', rec, '--no-baseline', '--exact', '-q', '-o', exact]);
  t.equal(g.code, 0, g.stderr);
  t.same(markedEquivalents(parseOciProfile(readFileSync(exact, 'utf8'), exact)), []);

  // Run 2 from the same state, twice: under --exact it dies at start-up...
  const data2 = join(dir, 'data-exact');
  cpSync(data, data2, { recursive: true, preserveTimestamps: true });
  execFileSync('chown', ['-R', `${uid}:${gid}`, data2]);
  const log2 = log('run2-exact.log');
  let start = Date.now();
  const r2 = await runCli(['run', '-q', '--profile', exact, '--', ...pgRun(data2, log2)], { timeoutMs: 120000 });
  t.comment(`run 2 under --exact: ${since(start)}`);
  const text2 = readFileSync(log2, 'utf8');
  t.equal(r2.code, 3, 'run 2 under --exact: the server died before accepting connections', { stderr: r2.stderr, log: text2 });
  t.match(text2, /FATAL: {2}could not write to file "pg_wal\/xlogtemp\.\d+": Operation not permitted/, 'the issue\'s FATAL');

  // ...and under the deployable profile it starts, runs the workload and shuts down.
  const data3 = join(dir, 'data-equivalents');
  cpSync(data, data3, { recursive: true, preserveTimestamps: true });
  execFileSync('chown', ['-R', `${uid}:${gid}`, data3]);
  const log3 = log('run2-equivalents.log');
  start = Date.now();
  const r3 = await runCli(['run', '-q', '--profile', deployable, '--', ...pgRun(data3, log3)], { timeoutMs: 120000 });
  t.comment(`run 2 under the deployable profile: ${since(start)}`);
  const text3 = readFileSync(log3, 'utf8');
  t.equal(r3.code, 0, 'run 2 under the deployable profile passes', { stderr: r3.stderr, log: text3 });
  t.notMatch(text3, /could not write/);
  t.ok(readdirSync(join(data3, 'pg_wal')).includes('000000010000000000000002'), 'run 2 created the next WAL segment');
  t.match(text3, /database system is shut down/);
});

t.test('nginx: master, 2 workers, sendfile, gzip: the second run passes under the profile, with and without equivalents', { skip: nginxSkip }, async (t) => {
  const dir = sharedTempDir('nginx', t);
  copyFileSync(join(FIX, 'nginx-run.sh'), join(dir, 'nginx-run.sh'));
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', 'index.txt'), Array.from({ length: 2000 }, (_, i) => `line ${i} of a compressible text file\n`).join(''));
  const blob = Buffer.alloc(300000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 251;
  writeFileSync(join(dir, 'www', 'blob.bin'), blob);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const temp = (k: string) => `  ${k}_temp_path ${join(dir, `tmp-${k}`)};`;
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process on;',
      'worker_processes 2;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} info;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp),
      '  types { text/plain txt; application/octet-stream bin; }',
      '  sendfile on;',
      '  gzip on;',
      '  gzip_min_length 1;',
      '  gzip_types text/plain;',
      `  server { listen 127.0.0.1:${port}; root ${join(dir, 'www')}; }`,
      '}',
      '',
    ].join('\n'),
  );
  const ngRun = [join(dir, 'nginx-run.sh'), conf, String(port), dir];
  const rec = join(dir, 'nginx.rec.json');
  const deployable = join(dir, 'nginx.json');
  const r1 = await runCli(['record', '--save-recording', rec, '-o', deployable, '--', ...ngRun], { timeoutMs: 60000 });
  t.equal(r1.code, 0, 'run 1, recorded', { stderr: r1.stderr });
  t.match(readFileSync(join(dir, 'index.headers'), 'utf8'), /Content-Encoding: gzip/i, 'gzip served');
  t.same(readFileSync(join(dir, 'blob.out')), blob, 'the binary file came through');
  const names = (JSON.parse(readFileSync(rec, 'utf8')) as { observations: { syscall?: string }[] }).observations.map((o) => o.syscall);
  t.ok(names.includes('sendfile'), 'nginx sent the file with sendfile');
  const added = markedEquivalents(parseOciProfile(readFileSync(deployable, 'utf8'), deployable));
  t.comment(`nginx: ${added.length} equivalents added: ${added.join(', ')}`);
  t.ok(added.length > 0);

  const exact = join(dir, 'nginx.exact.json');
  const g = await runCli(['generate', rec, '--no-baseline', '--exact', '-q', '-o', exact]);
  t.equal(g.code, 0, g.stderr);
  for (const [label, profile] of [
    ['deployable (equivalents)', deployable],
    ['--exact', exact],
  ] as const) {
    const r = await runCli(['run', '-q', '--profile', profile, '--', ...ngRun], { timeoutMs: 60000 });
    t.equal(r.code, 0, `run 2 under ${label} passes`, { stderr: r.stderr });
    t.same(readFileSync(join(dir, 'blob.out')), blob, `${label}: served again`);
  }
});
