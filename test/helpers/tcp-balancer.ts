// A layer-4 load balancer on loopback, as kube-proxy is for a Service: each new connection goes
// to the backend in use. Switching backends cuts the open connections, as a pod going away
// does, so the client's next request reaches the other backend.
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { onTestFinished } from "vitest";

export interface TcpBalancer {
  readonly port: number;
  /** Sends new connections to backends[index] and cuts the open ones. */
  use(index: number): void;
  /** How many connections each backend was given. */
  connections(): readonly number[];
}

export async function tcpBalancer(backendPorts: readonly number[]): Promise<TcpBalancer> {
  let current = 0;
  const open = new Set<Socket>();
  const counts = backendPorts.map(() => 0);
  const server = createServer((client) => {
    const index = current;
    counts[index] = (counts[index] ?? 0) + 1;
    const upstream = connect(backendPorts[index] ?? 0, "127.0.0.1");
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once("close", () => open.delete(socket));
      // Either side failing ends both: the client sees a cut connection and reconnects.
      socket.once("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(async () => {
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port: (server.address() as AddressInfo).port,
    use(index) {
      current = index;
      for (const socket of open) socket.destroy();
    },
    connections: () => [...counts],
  };
}
