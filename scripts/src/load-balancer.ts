/**
 * A round-robin HTTP load balancer in front of several issuer nodes: Debian's nginx, on a
 * loopback port, with its configuration, logs and temp files in a temp dir removed on stop().
 *
 * No stickiness: each request may reach any node, so the issuer's state must live in its
 * database, not in a node. nginx (open source) has no probes of its own: it learns that a node is
 * gone from failed attempts — a refused connection, or a 503, which a node whose database is away
 * answers (idp /readyz's condition) — and sends it nothing for `fail_timeout` after one. A GET
 * that failed so goes on to the next node; a POST only when it cannot have reached the node (a
 * refused connection): nginx never repeats a request a node may have acted on.
 *
 * Clean-up does not depend on this process ending well: nginx runs under a shell that reads its
 * stdin, a pipe from this process, and stops nginx and removes the dir when the pipe closes —
 * when stop() ends it or when this process ends in any way, kill -9 included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';
export const NGINX_INSTALL_HINT =
  "Debian's nginx is needed for the load balancer: install it with `apt-get install nginx` " +
  '(as root, after `apt-get update`).';

export interface LoadBalancerOptions {
  /** The loopback port it listens on. */
  port: number;
  /** Loopback ports of the nodes it spreads requests over. */
  upstreams: number[];
  /** Where nginx's error log lines go. */
  output?: (line: string) => void;
}

export interface LoadBalancer {
  port: number;
  /** The process nginx runs under: its tree holds nginx's master and worker. */
  pid: number;
  /** Stops nginx and removes its dir. */
  stop(): Promise<void>;
  /** Resolves if nginx ends before stop() is called. */
  exited: Promise<number | null>;
}

const SUPERVISOR = [
  'dir=$1',
  'shift',
  // A background job's stdin is /dev/null: the reader gets the pipe through fd 3.
  'exec 3<&0',
  '"$@" &',
  'nginx=$!',
  // EOF on the pipe: stop() ended it, or the process that started us is gone. (TERM: a
  // background job of a non-interactive shell ignores QUIT and INT.)
  '(read -r _ <&3; kill -TERM "$nginx" 2>/dev/null) &',
  'reader=$!',
  'wait "$nginx"',
  'code=$?',
  'kill "$reader" 2>/dev/null',
  'rm -rf "$dir"',
  'exit "$code"',
].join('\n');

export function nginxConfig(dir: string, port: number, upstreams: number[]): string {
  const servers = upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n');
  return `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  upstream issuer {
${servers}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://issuer;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout http_503;
      proxy_next_upstream_tries ${upstreams.length};
    }
  }
}
`;
}

export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
  if (!existsSync(NGINX)) throw new Error(NGINX_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lb-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, options.port, options.upstreams));
  // As root, nginx's workers would run as `nobody`, who cannot use the temp dir (mkdtemp makes
  // it 0700): they stay root, which on a loopback-only demo balancer is acceptable.
  const user = process.getuid?.() === 0 ? ['-g', 'user root;'] : [];
  const child: ChildProcess = spawn(
    'sh',
    ['-c', SUPERVISOR, 'tessera-load-balancer', dir, NGINX, '-p', dir, '-c', conf, ...user],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  child.stdin?.on('error', () => {});
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) options.output?.(line);
  });
  let stopping = false;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.stdin?.end();
    await exited;
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode} (see its output above)`);
    if (await listening(options.port)) {
      const exitedOnItsOwn = exited.then((c) => (stopping ? new Promise<never>(() => {}) : c));
      return { port: options.port, pid: child.pid!, stop, exited: exitedOnItsOwn };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`nginx did not listen on 127.0.0.1:${options.port}`);
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
