import type Database from 'better-sqlite3';
import { LINKED_PROFILE_COLUMNS, toProfile, type ProfileRow } from './sqlite-rows';
import type { LinkOutcome } from './types';

/**
 * Links Experience Cloud IDs to profiles on the SQLite writer connection, inside the caller's
 * transaction. Batches never touch the link column (their merge writes attributes only), so a
 * link needs no check against a batch being staged.
 */
export class SqliteProfileLinks {
  private readonly byPcId: Database.Statement;
  private readonly unlinkOthers: Database.Statement;
  private readonly link: Database.Statement;

  constructor(db: Database.Database) {
    this.byPcId = db.prepare(`SELECT ${LINKED_PROFILE_COLUMNS} FROM profiles WHERE client = ? AND pc_id = ?`);
    this.unlinkOthers = db.prepare(
      `UPDATE profiles SET marketing_cloud_visitor_id = NULL
       WHERE client = ? AND marketing_cloud_visitor_id = ? AND pc_id <> ? RETURNING pc_id`,
    );
    this.link = db.prepare('UPDATE profiles SET marketing_cloud_visitor_id = ? WHERE client = ? AND pc_id = ?');
  }

  /** Links `marketingCloudVisitorId` to the profile `pcId`, taking it from any other profile of the client. */
  linkMarketingCloudVisitorId(client: string, pcId: string, marketingCloudVisitorId: string): LinkOutcome {
    const row = this.byPcId.get(client, pcId) as ProfileRow | undefined;
    if (row === undefined) return { status: 'notFound' };
    const profile = toProfile(row);
    if (profile.marketingCloudVisitorId === marketingCloudVisitorId)
      return { status: 'linked', profile, movedFrom: null };
    const taken = this.unlinkOthers.get(client, marketingCloudVisitorId, pcId) as { pc_id: string } | undefined;
    this.link.run(marketingCloudVisitorId, client, pcId);
    profile.marketingCloudVisitorId = marketingCloudVisitorId;
    return { status: 'linked', profile, movedFrom: taken?.pc_id ?? null };
  }
}
