// The entities of `cordon gen --entities` (lab/gen.ts): devices, IPs, payees, lenders and card tokens on the
// events, and the fraud patterns that only entities show: a device farm (many accounts on one device), a mule
// payee (one payee receiving from many accounts in a day) and a credential-stuffing burst (one IP failing logins
// on many accounts within minutes). Its own random stream, so the events themselves stay those of the same run
// without entities; the same options always give the same bytes.
import type { Entities } from '../core/events';
import { prng, type Draft, type GenOptions, type Label, type Pending } from './gen-kit';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface EntityPlanner {
  /** The entities of a background (or older pattern's) event of account `i`. */
  background(i: number, draft: Draft, label: Label): Entities | undefined;
  /** The events of the entity patterns account `i` takes part in (none for most accounts). */
  patternEvents(i: number): Pending[];
}

interface Group {
  kind: 'device-farm' | 'mule-payee' | 'credential-stuffing';
  index: number;
  start: number;
}

export function entityPlanner(o: GenOptions, start: number, end: number, width: number): EntityPlanner {
  const rand = prng(`${o.seed}:entities`);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const chance = (p: number) => rand() < p;
  const n = o.accounts;
  // One group of each kind per 20,000 accounts (at least one), each of about 25 accounts.
  const groups = 1 + Math.floor(n / 20_000);
  const share = Math.min(0.08, (25 * groups) / n);
  const span = end - start;
  const startOf = (lead: number) => start + rand() * Math.max(0, span - lead);
  const plan: Group[] = [];
  for (const kind of ['device-farm', 'mule-payee', 'credential-stuffing'] as const)
    for (let g = 0; g < groups; g++)
      plan.push({ kind, index: g, start: startOf(kind === 'credential-stuffing' ? HOUR : 2 * 24 * HOUR) });
  const ipPool = Math.max(1, Math.floor(n / 3));
  const pad = (i: number) => String(i).padStart(width, '0');

  const homeIp = (i: number) => (chance(0.1) ? `ip-cgn-${int(0, 49)}` : `ip-${i % ipPool}`);
  return {
    background(i, draft, label) {
      const attrs = draft.attributes as Record<string, unknown>;
      const device =
        label.pattern === 'account-takeover'
          ? `dev-ato-${pad(i)}`
          : draft.type === 'LOGIN' && attrs.newDevice === true
            ? `dev-${pad(i)}-n${int(0, 99)}`
            : `dev-${pad(i)}`;
      switch (draft.type) {
        case 'LOGIN':
        case 'LOGIN_FAILED':
          return { device, ip: homeIp(i) };
        case 'TRANSFER_ATTEMPT':
          return {
            device,
            ip: homeIp(i),
            payee:
              attrs.toNewPayee === true
                ? `payee-${pad(i)}-${int(5, 999_999)}`
                : `payee-${pad(i)}-${int(0, 4)}`,
            card: `tok_${i.toString(36)}`,
          };
        case 'BORROW_REQUEST':
          return { device, lender: `lender-${int(1, 20)}` };
        default:
          return undefined;
      }
    },
    patternEvents(i) {
      // One roll per account whatever happens, so the stream does not depend on earlier accounts' choices.
      const roll = rand();
      const which = Math.floor(roll / share);
      if (which >= 3) return [];
      const group = plan[which * groups + int(0, groups - 1)]!;
      const label: Label = { fraud: true, pattern: group.kind };
      const out: Pending[] = [];
      const g = group.index;
      switch (group.kind) {
        case 'device-farm': {
          // Many fresh sign-ins on one device within a day and a half, each followed by a transfer out.
          const at = group.start + rand() * 36 * HOUR;
          const entities = { device: `dev-farm-${g}`, ip: `ip-farm-${g}` };
          out.push({
            at,
            label,
            entities,
            draft: {
              type: 'LOGIN',
              attributes: {
                newDevice: true,
                geoDistanceKm: int(0, 50),
                minutesSinceLastLogin: int(60, 9000),
              },
            },
          });
          out.push({
            at: at + int(5, 60) * MINUTE,
            label,
            entities: { ...entities, payee: `payee-farm-${g}-${int(0, 3)}`, card: `tok_${i.toString(36)}` },
            draft: { type: 'TRANSFER_ATTEMPT', attributes: { toNewPayee: true, amount: int(500, 3000) } },
          });
          break;
        }
        case 'mule-payee': {
          // Many accounts sending to one new payee within a day.
          out.push({
            at: group.start + rand() * 24 * HOUR,
            label,
            entities: {
              device: `dev-${pad(i)}`,
              ip: `ip-${i % ipPool}`,
              payee: `payee-mule-${g}`,
              card: `tok_${i.toString(36)}`,
            },
            draft: {
              type: 'TRANSFER_ATTEMPT',
              attributes: { toNewPayee: true, amount: int(1000, 8000), duringCall: chance(0.5) },
            },
          });
          break;
        }
        case 'credential-stuffing': {
          // One IP failing logins on many accounts within ten minutes; some accounts get a long run of failures.
          let at = group.start + rand() * 8 * MINUTE;
          const tries = chance(0.25) ? int(5, 12) : int(1, 3);
          for (let f = 1; f <= tries; f++) {
            out.push({
              at,
              label,
              entities: { device: `dev-stuff-${g}-${int(0, 9)}`, ip: `ip-stuff-${g}` },
              draft: { type: 'LOGIN_FAILED', attributes: { consecutiveFailures: f } },
            });
            at += int(2, 20) * 1000;
          }
          break;
        }
      }
      return out.filter((p) => p.at < end);
    },
  };
}
