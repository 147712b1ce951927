// `npm run provision`: finds or builds the Temporal CLI (dev server and Web UI); with `-- --cluster`, also the
// Temporal server, SQL tool and Web UI server of `npm run cluster` and its test. Cached in .tools/.
import { ensureClusterTools } from './cluster/tools';
import { ensureTemporalCli, say } from './temporal-tools';

async function main(): Promise<void> {
  say(`Temporal CLI: ${await ensureTemporalCli()}`);
  if (!process.argv.includes('--cluster')) return;
  const tools = await ensureClusterTools(say);
  for (const [name, path] of Object.entries(tools)) say(`${name}: ${path}`);
}

main().catch((err: Error) => {
  say(`failed: ${err.message}`);
  process.exit(1);
});
