// Container images for the CRI test without a registry: a rootfs directory
// packed as one uncompressed layer into an OCI image layout archive
// (oci-layout, index.json, blobs/sha256/...), which `ctr images import` reads.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { entriesOf, tarOf } from './tar.js';
import type { TarEntry } from './tar.js';

export interface ImageSpecInput {
  /** Full reference the image is imported under, e.g. test.local/busybox:1. */
  ref: string;
  rootfs: string;
  /** The image's default command (the pause image's /pause). */
  cmd?: string[];
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blobPath = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** The OCI image layout of one single-layer image, as a tar archive; returns the manifest digest too. */
export function ociArchive(input: ImageSpecInput): { archive: Buffer; manifestDigest: string } {
  const layer = tarOf(entriesOf(input.rootfs));
  const layerDigest = sha256(layer);
  const config = json({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    config: { Env: ['PATH=/bin'], ...(input.cmd ? { Cmd: input.cmd } : {}) },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
  });
  const manifestDigest = sha256(manifest);
  const tag = input.ref.slice(input.ref.lastIndexOf(':') + 1);
  const index = json({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifestDigest,
        size: manifest.length,
        annotations: { 'io.containerd.image.name': input.ref, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  });
  const blobs = [layer, config, manifest];
  const entries: TarEntry[] = [
    { name: 'blobs', type: 'dir', mode: 0o755 },
    { name: 'blobs/sha256', type: 'dir', mode: 0o755 },
    ...blobs.map((b): TarEntry => ({ name: blobPath(sha256(b)), type: 'file', mode: 0o644, data: b })),
    { name: 'index.json', type: 'file', mode: 0o644, data: index },
    { name: 'oci-layout', type: 'file', mode: 0o644, data: json({ imageLayoutVersion: '1.0.0' }) },
  ];
  return { archive: tarOf(entries), manifestDigest };
}

export function writeOciArchive(path: string, input: ImageSpecInput): string {
  const { archive, manifestDigest } = ociArchive(input);
  writeFileSync(path, archive);
  return manifestDigest;
}
