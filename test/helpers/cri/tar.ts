// A minimal ustar writer for the CRI test's images: directories, regular
// files and symlinks of a small rootfs, in sorted order, owned by root, with
// mtime 0, so the same tree always gives the same bytes (and digest).
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface TarEntry {
  /** Path inside the archive, no leading slash; directories end without one. */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  data?: Buffer;
  linkTarget?: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(512);
  const name = e.type === 'dir' ? `${e.name}/` : e.name;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar: name too long for this writer: ${name}`);
  h.write(name, 0);
  h.write(octal(e.mode & 0o7777, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(e.type === 'file' ? e.data!.length : 0, 12), 124);
  h.write(octal(0, 12), 136);
  h.write('        ', 148); // checksum field counts as spaces while summing
  h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156);
  if (e.linkTarget) h.write(e.linkTarget, 157);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('root', 265);
  h.write('root', 297);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7), 148);
  return h;
}

/** The archive of these entries, in the order given. */
export function tarOf(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e));
    if (e.type === 'file') {
      parts.push(e.data!);
      const pad = (512 - (e.data!.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Every entry under `dir`, sorted by path (directories before their contents). */
export function entriesOf(dir: string, prefix = ''): TarEntry[] {
  const out: TarEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const inside = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(path);
    if (st.isSymbolicLink()) out.push({ name: inside, type: 'symlink', mode: 0o777, linkTarget: readlinkSync(path) });
    else if (st.isDirectory()) {
      out.push({ name: inside, type: 'dir', mode: st.mode });
      out.push(...entriesOf(path, inside));
    } else if (st.isFile()) out.push({ name: inside, type: 'file', mode: st.mode, data: readFileSync(path) });
  }
  return out;
}
