// The kubelet's side of the CRI, as much as the CRI test needs: a gRPC client
// over containerd's unix socket for test/helpers/cri/cri.proto, each call a
// promise with a deadline.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO = fileURLToPath(new URL('./cri.proto', import.meta.url));

export type Message = Record<string, unknown>;

type Unary = (req: Message, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Message) => void) => void;

export interface CriClient {
  runtime(method: string, req: Message, timeoutMs?: number): Promise<Message>;
  image(method: string, req: Message, timeoutMs?: number): Promise<Message>;
  close(): void;
}

export function criClient(socket: string): CriClient {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, enums: String, longs: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor; ImageService: grpc.ServiceClientConstructor } };
  };
  const target = `unix://${socket}`;
  const creds = grpc.credentials.createInsecure();
  const runtimeService = new pkg.runtime.v1.RuntimeService(target, creds);
  const imageService = new pkg.runtime.v1.ImageService(target, creds);
  const call = (client: grpc.Client, method: string, req: Message, timeoutMs: number) =>
    new Promise<Message>((resolve, reject) => {
      const fn = (client as unknown as Record<string, Unary>)[method];
      if (typeof fn !== 'function') return reject(new Error(`no CRI method ${method} in cri.proto`));
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(new Error(`CRI ${method}: ${err.details || err.message}`)) : resolve(res),
      );
    });
  return {
    runtime: (method, req, timeoutMs = 60_000) => call(runtimeService, method, req, timeoutMs),
    image: (method, req, timeoutMs = 30_000) => call(imageService, method, req, timeoutMs),
    close() {
      runtimeService.close();
      imageService.close();
    },
  };
}
