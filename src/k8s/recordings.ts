// What was recorded per image, for lint's coverage check and patch's profiles:
// from the node agent (its API, one request per image form) or from saved
// recording files given as IMAGE=FILE. Looked up by the image as a manifest
// writes it, in its short and its full form.
import { UsageError } from '../errors.js';
import { apiRequest, checkResponse, imagePath } from '../agent/client.js';
import { readInput } from '../profile/load.js';
import type { Recording } from '../profile/recording.js';
import { parseRecording } from '../profile/recording.js';
import { imageCandidates } from './image-ref.js';

export type RecordingMap = Map<string, Recording>;

/** `IMAGE=VALUE` (the image may hold `:` and `@`, the value follows the last `=`). */
export function splitImageAssignment(entry: string, option: string): [string, string] {
  const eq = entry.lastIndexOf('=');
  if (eq <= 0 || eq === entry.length - 1) throw new UsageError(`${option} expects IMAGE=VALUE, got ${JSON.stringify(entry)}`);
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

export function recordingsFromFiles(entries: readonly string[]): RecordingMap {
  const out: RecordingMap = new Map();
  for (const e of entries) {
    const [image, file] = splitImageAssignment(e, '--recording');
    const { text, label } = readInput(file);
    out.set(image, parseRecording(text, label));
  }
  return out;
}

/** Asks the agent for each image (short and full form); images it never saw are simply absent. */
export async function recordingsFromAgent(apiSocket: string, images: Iterable<string>): Promise<RecordingMap> {
  const out: RecordingMap = new Map();
  for (const image of new Set(images)) {
    for (const form of imageCandidates(image)) {
      const res = await apiRequest(apiSocket, 'GET', imagePath(form, 'recording'));
      if (res.status === 404) continue;
      checkResponse(res);
      out.set(image, parseRecording(res.body, `the agent's recording of ${form}`));
      break;
    }
  }
  return out;
}

/** A lookup that tries the image as written, then its full form. */
export function recordingLookup(map: RecordingMap): (image: string) => Recording | undefined {
  return (image) => {
    for (const form of imageCandidates(image)) {
      const r = map.get(form);
      if (r) return r;
    }
    for (const [k, r] of map) if (imageCandidates(k).includes(imageCandidates(image).at(-1)!)) return r;
    return undefined;
  };
}
