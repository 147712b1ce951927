// The container image and Kubernetes manifests, checked against the code (no container engine runs here; the
// image's steps are executed for real by test/signals.test.ts): commands, ports, probes, grace periods, what
// the build compiles and the image copies, and every configuration variable.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { API_STOP_MS } from '../api/main';
import { routes, type AppDeps } from '../api/app';
import { parseConfig } from '../infra/config';
import { ENV_NAMES, type EnvName } from '../infra/config-schema';
import { WORKER_STOP_MS } from '../worker/create';
import {
  containerOf,
  k8sDoc,
  parseDockerfile,
  podEnv,
  read,
  refuseUnsafeRun,
  ROOT,
} from './helpers/deploy-files';

const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1)!;
const build = stages.find((s) =>
  s.steps.some((step) => step.kind === 'RUN' && /npm run build/.test(step.command)),
);
const route = (path: string) => routes({} as AppDeps).find((r) => r.method === 'get' && r.path === path);
const grace = (name: string): number =>
  k8sDoc('Deployment', name).spec.template.spec.terminationGracePeriodSeconds as number;

/** "node <file>.js": node itself, on compiled JavaScript that `npm run build` writes into dist/. */
function assertNodeOnDist(command: string[], what: string): string {
  assert.equal(
    command[0],
    'node',
    `${what} runs node directly (no npm, no shell, no tsx): ${command.join(' ')}`,
  );
  assert.equal(command.length, 2, `${what}: node and one script, no loader flags`);
  assert.match(command[1]!, /^dist\/.+\.js$/, `${what} runs compiled JavaScript from dist/`);
  return command[1]!;
}

/** The TypeScript source dist/<path>.js is compiled from, which tsconfig.build.json must name as an entry. */
const sourceOf = (distFile: string) => distFile.replace(/^dist\//, '').replace(/\.js$/, '.ts');
const buildFiles = (
  JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as { files: string[] }
).files;

describe('deployment: Dockerfile and Kubernetes manifests', () => {
  it('the API Deployment runs node on the compiled API, on the port it listens on; ready on /readyz, alive on /healthz', () => {
    const api = containerOf('cordon-api');
    const script = assertNodeOnDist(api.command, 'the API Deployment');
    assert.ok(buildFiles.includes(sourceOf(script)), `tsconfig.build.json compiles ${sourceOf(script)}`);
    const env = podEnv(api);
    const port = api.ports.find((p: { name: string }) => p.name === 'http').containerPort;
    assert.equal(parseConfig(env).port, port, 'PORT and the container port agree');
    // Loopback is the default; in a pod the Service reaches the API on the pod's own address.
    assert.equal(parseConfig(env).host, '0.0.0.0', 'CORDON_HOST: every interface of the pod');
    assert.equal(api.readinessProbe.httpGet.path, '/readyz');
    assert.equal(
      api.livenessProbe.httpGet.path,
      '/healthz',
      'a stopping pod is not restarted for failing readiness',
    );
    assert.equal(route('/readyz')?.roles, 'public', 'the probes need no token');
    assert.equal(route('/healthz')?.roles, 'public');
    const service = k8sDoc('Service', 'cordon-api');
    assert.equal(service.spec.ports[0].targetPort, 'http');
  });

  it("the API's grace period covers its readiness delay and its stop, and the two stay within 10 s", () => {
    const config = parseConfig(podEnv(containerOf('cordon-api')));
    const stopMs = config.shutdownDelayMs + API_STOP_MS;
    assert.ok(stopMs <= 10_000, `the API stops within 10 s of SIGTERM (${stopMs} ms)`);
    assert.ok(grace('cordon-api') * 1000 > stopMs, `terminationGracePeriodSeconds above ${stopMs} ms`);
    assert.ok(config.shutdownDelayMs >= 1_000, 'load balancers get a moment to learn of the stop');
  });

  it('the worker Deployment runs node on the compiled worker; its probe reaches the SDK metrics exporter', () => {
    const worker = containerOf('cordon-worker');
    const script = assertNodeOnDist(worker.command, 'the worker Deployment');
    assert.ok(buildFiles.includes(sourceOf(script)), `tsconfig.build.json compiles ${sourceOf(script)}`);
    const config = parseConfig(podEnv(worker));
    const metricsPort = worker.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;
    assert.equal(config.sdkMetricsAddress, `0.0.0.0:${metricsPort}`, 'listening where the kubelet probes');
    assert.equal(worker.readinessProbe.tcpSocket.port, 'metrics');
    assert.ok(WORKER_STOP_MS <= 30_000, 'the worker stops within 30 s of SIGTERM');
    assert.ok(grace('cordon-worker') * 1000 > WORKER_STOP_MS, 'its grace period covers the drain');
  });

  it('the configuration is a valid production configuration, and names only variables Cordon reads', () => {
    for (const name of ['cordon-api', 'cordon-worker']) {
      const env = podEnv(containerOf(name));
      const config = parseConfig({ ...runtime.env, ...env });
      assert.equal(config.mode, 'production');
      assert.match(config.database.url ?? '', /^postgres:\/\//, 'several pods share PostgreSQL, not SQLite');
      // Every variable Cordon reads is in the one schema (test/configuration.test.ts holds the code to it).
      for (const variable of Object.keys({ ...env, ...runtime.env }))
        if (variable !== 'NODE_ENV')
          assert.ok(ENV_NAMES.includes(variable as EnvName), `${variable} is a variable Cordon reads`);
    }
  });

  it('the image: built from the lock file, compiled, then node on dist/ with the prebuilt bundle, unprivileged', () => {
    assert.ok(build, 'a stage runs `npm run build`');
    assert.match(scripts.build ?? '', /tsc -p tsconfig\.build\.json/);
    for (const stage of stages) {
      assert.match(stage.image, /^node:20/);
      const runs = stage.steps.flatMap((step) => (step.kind === 'RUN' ? [step.command] : []));
      runs.forEach(refuseUnsafeRun); // test/signals.test.ts executes them on this machine
      for (const command of runs)
        assert.doesNotMatch(
          command,
          /\bnpm (install|i)\b/,
          'the image installs with npm ci, from the lock file',
        );
      if (runs.some((command) => /\bnpm ci\b/.test(command)))
        assert.ok(
          stage.steps.some((step) => step.kind === 'COPY' && step.sources.includes('package-lock.json')),
          `stage ${stage.name ?? ''} runs npm ci with the committed lock file`,
        );
    }
    assertNodeOnDist(runtime.cmd ?? [], 'CMD');
    assert.equal(runtime.user, 'node');
    assert.deepEqual(runtime.expose, [8080]);
    assert.equal(runtime.env.PORT, '8080');
    assert.equal(
      runtime.env.CORDON_WORKFLOW_BUNDLE,
      'dist/workflow-bundle.js',
      'the bundle `npm run build` writes',
    );
    assert.match(scripts.build ?? '', /dist\/worker\/build-bundle\.js/);
    // The runtime stage holds no TypeScript: dist/ from the build, production node_modules, the policy.
    const copies = runtime.steps.flatMap((s) => (s.kind === 'COPY' ? [s] : []));
    assert.ok(copies.some((c) => c.from === build.name && c.sources.includes('/app/dist')));
    for (const c of copies.filter((c) => !c.from))
      for (const source of c.sources) {
        assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
        assert.ok(!/\.ts$/.test(source) && source !== 'cli', `${source}: no TypeScript in the runtime image`);
      }
    const policy = parseConfig({}).policyFile.replace(`${process.cwd()}/`, '');
    assert.ok(
      copies.some((c) => c.sources.some((s) => policy.startsWith(`${s}/`))),
      `the image has ${policy}`,
    );
  });

  it('the build stage copies every folder the compiled entry points import', () => {
    const copied = build!.steps.flatMap((s) => (s.kind === 'COPY' && !s.from ? s.sources : []));
    for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'])
      assert.ok(copied.includes(file), `the build stage copies ${file}`);
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
    for (const entry of buildFiles) visit(entry);
    for (const folder of needed) assert.ok(copied.includes(folder), `the build stage copies ${folder}/`);
  });
});
