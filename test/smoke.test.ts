import t from 'tap';
import { allowListProfile } from '../src/profile/model.js';
import { serializeOci } from '../src/profile/oci.js';
t.test('x', async (t) => {
  const p = allowListProfile(['x86_64'], ['read', 'write']);
  t.match(serializeOci(p), /SCMP_ARCH_X86_64/);
});
