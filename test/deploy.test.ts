// The container image and Kubernetes manifests, checked against the code (no container engine runs here):
// ports, probes, commands, copied folders and every configuration variable.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { routes, type AppDeps } from '../api/app';
import { parseConfig } from '../infra/config';

const ROOT = join(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: any;
}
const docs: K8sDoc[] = readdirSync(join(ROOT, 'deploy/k8s'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(read(`deploy/k8s/${f}`)).map((d) => d.toJS() as K8sDoc));
const byName = (kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(doc, `${kind} ${name}`);
  return doc;
};
const containerOf = (name: string) => byName('Deployment', name).spec.template.spec.containers[0];

/** The environment a pod gets: the ConfigMap and the Secret (placeholders made valid), then its own env. */
function podEnv(container: { env?: { name: string; value: string }[] }): Record<string, string> {
  const env: Record<string, string> = { ...byName('ConfigMap', 'cordon-config').data };
  const key = Buffer.alloc(32, 7).toString('base64');
  for (const [k, v] of Object.entries(byName('Secret', 'cordon-secrets').stringData ?? {}))
    env[k] = v.replace(/CHANGE-ME-base64-of-32-random-bytes=/, key).replace(/CHANGE-ME/g, 'changed');
  for (const e of container.env ?? []) env[e.name] = e.value;
  return env;
}

describe('deployment: Dockerfile and Kubernetes manifests', () => {
  it('the API Deployment runs the API script, on the port it listens on, ready when /healthz answers', () => {
    const api = containerOf('cordon-api');
    assert.deepEqual(api.command, ['npm', 'run', 'api']);
    assert.ok(scripts.api, 'package.json has the api script');
    const env = podEnv(api);
    const port = api.ports.find((p: { name: string }) => p.name === 'http').containerPort;
    assert.equal(parseConfig(env).port, port, 'PORT and the container port agree');
    assert.equal(api.readinessProbe.httpGet.path, '/healthz');
    const health = routes({} as AppDeps).find((r) => r.method === 'get' && r.path === '/healthz');
    assert.equal(health?.roles, 'public', 'the probe needs no token');
    const service = byName('Service', 'cordon-api');
    assert.equal(service.spec.ports[0].targetPort, 'http');
    assert.ok(byName('Deployment', 'cordon-api').spec.template.spec.terminationGracePeriodSeconds >= 10);
  });

  it('the worker Deployment runs the worker script; its probe reaches the SDK metrics exporter', () => {
    const worker = containerOf('cordon-worker');
    assert.deepEqual(worker.command, ['npm', 'run', 'worker']);
    assert.ok(scripts.worker);
    const config = parseConfig(podEnv(worker));
    const metricsPort = worker.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;
    assert.equal(config.sdkMetricsAddress, `0.0.0.0:${metricsPort}`, 'listening where the kubelet probes');
    assert.equal(worker.readinessProbe.tcpSocket.port, 'metrics');
    assert.ok(byName('Deployment', 'cordon-worker').spec.template.spec.terminationGracePeriodSeconds >= 30);
  });

  it('the configuration is a valid production configuration, and names only variables Cordon reads', () => {
    const env = podEnv(containerOf('cordon-api'));
    const config = parseConfig(env);
    assert.equal(config.mode, 'production');
    assert.match(config.database.url ?? '', /^postgres:\/\//, 'several pods share PostgreSQL, not SQLite');
    const source = read('infra/config.ts');
    for (const name of Object.keys(env))
      assert.ok(new RegExp(`\\b${name}: `).test(source), `${name} is a variable infra/config.ts reads`);
  });

  it('the image copies every folder the processes import, exposes the API port and runs unprivileged', () => {
    const dockerfile = read('Dockerfile');
    assert.match(dockerfile, /^FROM node:20/m);
    assert.match(dockerfile, /^EXPOSE 8080$/m);
    assert.match(dockerfile, /^USER node$/m);
    const copied = [...dockerfile.matchAll(/^COPY (\S+) \.\/(\S*)$/gm)].map((m) => m[1]!);
    for (const source of copied) assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
    // Every folder a runtime module imports from (followed from the two entry points).
    const needed = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      needed.add(file.split('/')[0]!);
      for (const m of read(file).matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = join(file, '..', m[1]!).replace(/\\/g, '/');
        for (const candidate of [`${target}.ts`, `${target}/index.ts`])
          if (existsSync(join(ROOT, candidate))) visit(candidate);
      }
    };
    visit('api/main.ts');
    visit('worker/main.ts');
    visit('workflows/index.ts');
    for (const folder of needed) assert.ok(copied.includes(folder), `the image copies ${folder}/`);
    const cmd = /^CMD \["npm", "run", "(\w+)"\]$/m.exec(dockerfile);
    assert.ok(cmd && scripts[cmd[1]!], 'CMD runs a package.json script');
  });
});
