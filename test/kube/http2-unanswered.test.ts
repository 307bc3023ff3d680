// A stream the server closes before answering, with no error: cancelled (RST_STREAM CANCEL), or
// cut with its connection by a server going down after a GOAWAY. A watch has no timeout, so
// before the fix the request waited for an answer for ever: found as an informer that never
// noticed its API server stop (test/kube/informer.int.test.ts, an outage during a new watch).
import { createSecureServer, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttp2Transport } from "../../src/kube/http2-transport.js";
import type { WireRequest } from "../../src/kube/transport.js";
import { makeServingCert, makeTestCa, type TestCa } from "../helpers/tls.js";

let ca: TestCa;
beforeAll(() => {
  ca = makeTestCa();
});

const closers: (() => void)[] = [];
afterAll(() => {
  for (const close of closers) close();
});

/** An h2 server that does `unanswer` to every stream instead of answering it. */
async function serverThat(unanswer: (stream: ServerHttp2Stream) => void): Promise<number> {
  const server = createSecureServer(makeServingCert(ca, ["127.0.0.1"]));
  server.on("stream", unanswer);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** A watch-like request: no timeout of its own. */
function watchRequest(port: number): WireRequest {
  return {
    method: "GET",
    url: new URL(`https://127.0.0.1:${String(port)}/api/v1/configmaps?watch=true`),
    headers: {},
    tls: { ca: ca.cert },
    timeoutMs: 0,
  };
}

describe("an HTTP/2 stream closed without an answer", () => {
  const cases: [string, (stream: ServerHttp2Stream) => void][] = [
    [
      "cancelled by the server",
      (stream) => {
        stream.close(8);
      },
    ],
    [
      "cut with its connection after a GOAWAY, as a server shutting down does",
      (stream) => {
        stream.session?.goaway(0, 0);
        setTimeout(() => stream.session?.destroy(), 20);
      },
    ],
    [
      "closed with the session, no error code",
      (stream) => {
        stream.session?.close();
        stream.close(0);
      },
    ],
  ];
  it.each(cases)("fails the request when %s", async (_name, unanswer) => {
    const port = await serverThat(unanswer);
    const transport = createHttp2Transport();
    closers.push(() => {
      transport.close();
    });
    await expect(transport.send(watchRequest(port))).rejects.toThrow(
      /closed the stream without an answer \(HTTP\/2 code \d+\)/,
    );
  });
});
