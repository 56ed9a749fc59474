import type Database from 'better-sqlite3';
import type { Profile, ProfileKey } from '../profiles/types';
import type { TouchedProfile } from './sqlite-stage';
import { LINKED_PROFILE_COLUMNS, toProfile, type ProfileRow } from './sqlite-rows';

/**
 * Deletes profiles on the SQLite writer connection, inside the caller's transaction. The row
 * holds the attributes and both id links (thirdPartyId, ECID), so one DELETE drops them all.
 */
export class SqliteProfileDeletion {
  private readonly statements: Record<ProfileKey['kind'], Database.Statement>;
  private readonly expired: Database.Statement;

  constructor(db: Database.Database) {
    const del = (column: string) =>
      db.prepare(`DELETE FROM profiles WHERE client = ? AND ${column} = ? RETURNING ${LINKED_PROFILE_COLUMNS}`);
    this.statements = {
      pcId: del('pc_id'),
      thirdPartyId: del('third_party_id'),
      marketingCloudVisitorId: del('marketing_cloud_visitor_id'),
    };
    // Found through the (client, modified_at) index: a short transaction whatever the table's size.
    this.expired = db.prepare(
      `DELETE FROM profiles WHERE client = ? AND pc_id IN (
         SELECT pc_id FROM profiles WHERE client = ? AND modified_at < ? LIMIT ?
       ) RETURNING pc_id, third_party_id`,
    );
  }

  /** Deletes at most `limit` profiles of `client` last modified before `olderThan`; returns their ids. */
  deleteExpired(client: string, olderThan: number, limit: number): TouchedProfile[] {
    const rows = this.expired.all(client, client, olderThan, limit) as Array<{
      pc_id: string;
      third_party_id: string | null;
    }>;
    return rows.map((r) => ({ client, pcId: r.pc_id, thirdPartyId: r.third_party_id }));
  }

  /** Deletes the profile `key` names and returns it as it was, or null when there is none. */
  deleteProfile(client: string, key: ProfileKey): Profile | null {
    const row = this.statements[key.kind].get(client, key.id) as ProfileRow | undefined;
    return row === undefined ? null : toProfile(row);
  }
}
