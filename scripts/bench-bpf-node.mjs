// What the bpf source costs, measured in this one process: the same command
// plain, then with the programs attached, (a) in a cgroup the programs record
// (the per-call cost a recorded workload pays, node start-up excluded) and
// (b) in a cgroup they ignore, as the agent leaves the node's own processes
// (the cost every other process on the node pays while the agent runs).
// Runs are interleaved so drift hits every column alike. Prints; asserts nothing.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { median } from './lib/bench-util.mjs';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

function timeIn(cgroupDir, cmd) {
  const t0 = process.hrtime.bigint();
  const argv = cgroupDir ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroupDir, ...cmd] : cmd;
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status})`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function benchNodeCost({ repeat, cases }) {
  const { BpfPrograms } = await import(`${DIST}record/bpf/programs.js`);
  const { createPrivateCgroup } = await import(`${DIST}record/bpf/cgroup2.js`);
  const plainCg = createPrivateCgroup(`bench-plain-${randomBytes(3).toString('hex')}`);
  const recCg = createPrivateCgroup(`bench-rec-${randomBytes(3).toString('hex')}`);
  console.log(`bpf source, cost per call: median of ${repeat} interleaved runs each (every command runs in a cgroup of its own; "sh" start-up included in all columns)`);
  try {
    for (const c of cases) {
      const plain = [];
      const recorded = [];
      const bystander = [];
      for (let i = 0; i < repeat; i++) {
        plain.push(timeIn(plainCg.dir, c.cmd));
        let p = BpfPrograms.open();
        p.add(recCg.id);
        recorded.push(timeIn(recCg.dir, c.cmd));
        p.close();
        // Agent mode: every cgroup that exists now is the node's own, so ignored.
        p = BpfPrograms.open({ auto: true });
        for (const id of p.list().cgroups) p.ignore(id);
        for (const id of p.list().cgroups) p.forget(id);
        p.ignore(plainCg.id);
        bystander.push(timeIn(plainCg.dir, c.cmd));
        p.close();
      }
      const [a, b, d] = [median(plain), median(recorded), median(bystander)];
      console.log(`\n${c.label}`);
      console.log(`  plain                          ${a.toFixed(0).padStart(8)} ms`);
      console.log(`  recorded by the bpf programs   ${b.toFixed(0).padStart(8)} ms   /plain ${(b / a).toFixed(2)}x`);
      console.log(`  not recorded, agent attached   ${d.toFixed(0).padStart(8)} ms   /plain ${(d / a).toFixed(2)}x   (what every other process on the node pays)`);
    }
  } finally {
    plainCg.remove();
    recCg.remove();
  }
}
