// The parts of the cluster test that are not tests: the state file's shape, ports, processes, HTTP calls, and
// what a person does in a browser (a notice's link from the mail catcher, a reviewer signing in).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverPortList } from '../../scripts/cluster/temporal';
import { assertPortFree } from '../../scripts/dev-server';
import { PortalAgent } from './portal-env';

export interface ClusterState {
  scriptPid: number;
  up: boolean;
  temporal: { address: string; shards: number; persistence: string };
  ui?: string;
  postgres: { port: number; url: string; cordonUrl: string; dataDir: string };
  apis: Array<{ name: string; url: string; pid: number; dataDir: string }>;
  workers: Array<{ name: string; pid: number; dataDir: string }>;
  processes: Array<{ name: string; pid: number }>;
  timings: Record<string, number>;
}

export interface Ports {
  api: number;
  temporal: number;
  ui: number;
  pg: number;
}

export async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports)
    if (
      !(await assertPortFree(port, '').then(
        () => true,
        () => false,
      ))
    )
      return false;
  return true;
}

/** The documented ports when they are free (the usual case), else a free set elsewhere. */
export async function choosePorts(): Promise<Ports> {
  const list = (p: Ports) => [
    p.api,
    p.api + 1,
    p.ui,
    p.pg,
    ...serverPortList(p.temporal).map(([port]) => port),
  ];
  const usual = { api: 8080, temporal: 7233, ui: 8233, pg: 55432 };
  if (await allFree(list(usual))) return usual;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const p = { api: base + 20, temporal: base + 400, ui: base + 30, pg: base + 40 };
    if (await allFree(list(p))) return p;
  }
  throw new Error('no free set of ports for the cluster');
}

export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function http(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    ms: Date.now() - started,
  };
}

/** The link to the case page in the notice mailed to `email`, from the mail catcher's folder (/dev/mail's). */
export async function noticeLink(mailDir: string, email: string, timeoutMs = 30_000): Promise<string> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250))
    for (const name of existsSync(mailDir) ? readdirSync(mailDir) : []) {
      if (!name.endsWith('.json')) continue;
      const mail = JSON.parse(readFileSync(join(mailDir, name), 'utf8')) as { to: string; links: string[] };
      const link = mail.to.includes(email) ? mail.links.find((l) => l.includes('/u/')) : undefined;
      if (link) return link;
    }
  throw new Error(`no notice to ${email} reached the mail catcher in ${timeoutMs / 1000} s`);
}

/** A reviewer signed in to an API's console: a GET with its session cookie. */
export async function consoleSession(
  base: string,
  token: string,
): Promise<(path: string) => Promise<Response>> {
  const agent = new PortalAgent(base);
  const csrf = /name="_csrf" value="([^"]+)"/.exec((await agent.send('GET', '/console/login')).text)?.[1];
  const signedIn = await agent.send('POST', '/console/login', {
    form: { _csrf: csrf ?? '', token, next: '/console/queue' },
  });
  if (signedIn.status !== 303) throw new Error(`signing in to ${base} answered ${signedIn.status}`);
  const cookie = [...agent.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  return (path) => fetch(`${base}${path}`, { headers: { cookie } });
}
