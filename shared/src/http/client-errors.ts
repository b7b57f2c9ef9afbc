/**
 * Requests Node's HTTP parser refuses before any handler runs. Without a `clientError` listener
 * Node answers them with a bare status line and no body; this one says what went wrong for the
 * one a client can cause by accident — a header block over Node's 16 KiB limit (too many or too
 * large cookies, say) — and answers the rest exactly as Node does.
 */
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';

const bare = (status: string) => `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`;

function tooLargeHeaders(): string {
  const body = JSON.stringify({
    error: 'invalid_request',
    error_description: 'the request header fields are too large (at most 16 KiB in all)',
  });
  return [
    // RFC 6585 §5.
    'HTTP/1.1 431 Request Header Fields Too Large',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Node's own answers (lib/_http_server.js) to the other parse errors, kept as they are. */
const NODE_ANSWERS: Record<string, string> = {
  HPE_CHUNK_EXTENSIONS_OVERFLOW: bare('413 Payload Too Large'),
  ERR_HTTP_REQUEST_TIMEOUT: bare('408 Request Timeout'),
};

/**
 * Installs the `clientError` listener on a Node HTTP server (what `serve()` of @hono/node-server
 * returns): 431 with a small JSON body and `Connection: close` for oversized headers.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex & { bytesWritten?: number }) => {
    // A response already under way, or a peer already gone, can only be cut off.
    if (!socket.writable || (socket.bytesWritten ?? 0) > 0) {
      socket.destroy();
      return;
    }
    const code = error.code ?? '';
    const answer = code === 'HPE_HEADER_OVERFLOW' ? tooLargeHeaders() : (NODE_ANSWERS[code] ?? bare('400 Bad Request'));
    // Closed once written, as Node does: the rest of the request is not read.
    socket.end(answer, () => socket.destroy());
  });
}
