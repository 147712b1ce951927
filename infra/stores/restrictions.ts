// Each account's restriction record: what the hot-path check answers (restricted or not, and the case), written
// by the case whenever it opens, changes or ends. Versions only increase, so a late retry changes nothing.
import type { AccountRestriction } from '../../core/activity-contract';
import { insertIgnore, type StoreContext } from './context';

export class RestrictionStore {
  constructor(private readonly c: StoreContext) {}

  /** Writes an account's record unless the stored one is as new or newer (a late retry changes nothing). */
  async record(r: AccountRestriction, onlyIfAbsent = false): Promise<void> {
    const { db, clock } = this.c;
    const columns = [
      'account_id',
      'case_id',
      'status',
      'tier',
      'restricted',
      'is_open',
      'version',
      'updated_at',
    ];
    const values = [r.accountId, r.caseId, r.status, r.tier, r.restricted ? 1 : 0, r.open ? 1 : 0, r.version];
    if (onlyIfAbsent) {
      await db.run(insertIgnore(db, 'account_restrictions', columns), [...values, clock()]);
      return;
    }
    await db.run(
      `INSERT INTO account_restrictions (${columns.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET case_id = excluded.case_id, status = excluded.status,
         tier = excluded.tier, restricted = excluded.restricted, is_open = excluded.is_open,
         version = excluded.version, updated_at = excluded.updated_at
       WHERE account_restrictions.version < excluded.version`,
      [...values, clock()],
    );
  }

  /** The records of these accounts, in the order asked (null where an account has none). */
  async of(accountIds: readonly string[]): Promise<(AccountRestriction | null)[]> {
    if (accountIds.length === 0) return [];
    const rows = await this.c.db.query<{
      account_id: string;
      case_id: string;
      status: string;
      tier: string;
      restricted: number;
      is_open: number;
      version: string;
    }>(
      `SELECT account_id, case_id, status, tier, restricted, is_open, version FROM account_restrictions
       WHERE account_id IN (${accountIds.map(() => '?').join(', ')})`,
      [...accountIds],
    );
    const byAccount = new Map(rows.map((r) => [r.account_id, r]));
    return accountIds.map((id) => {
      const r = byAccount.get(id);
      return r
        ? {
            accountId: r.account_id,
            caseId: r.case_id,
            status: r.status as AccountRestriction['status'],
            tier: r.tier as AccountRestriction['tier'],
            restricted: Number(r.restricted) === 1,
            open: Number(r.is_open) === 1,
            version: r.version,
          }
        : null;
    });
  }
}
