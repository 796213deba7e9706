// Image references as a runtime resolves them: `nginx:1.27` is pulled as
// `docker.io/library/nginx:1.27`, a reference without tag or digest as
// `:latest`. Manifests write the short form, the CRI reports the full one;
// lookups by image try both.
const DEFAULT_DOMAIN = 'docker.io';

/** `nginx` -> `docker.io/library/nginx:latest`; already full references come back unchanged. */
export function normalizeImage(ref: string): string {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at) : '';
  let name = at >= 0 ? ref.slice(0, at) : ref;
  let tag = '';
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = name.slice(colon);
    name = name.slice(0, colon);
  }
  const first = name.split('/')[0];
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) name = `${DEFAULT_DOMAIN}/${name.includes('/') ? name : `library/${name}`}`;
  else if (first === DEFAULT_DOMAIN && name.split('/').length === 2) name = `${DEFAULT_DOMAIN}/library/${name.split('/')[1]}`;
  if (!tag && !digest) tag = ':latest';
  return `${name}${tag}${digest}`;
}

/** The forms an image may be known by, as written first. */
export function imageCandidates(ref: string): string[] {
  const full = normalizeImage(ref);
  return full === ref ? [ref] : [ref, full];
}
